// The preference centre: one user's choices about marketing pop-ups, opened from a link their app
// made. The link's token is the only credential: it is moved out of the address bar at once (kept
// in this tab's sessionStorage), sent as a bearer token to this origin's JSON only, and never put
// in markup. Names come from the campaign registry: they reach the page as textContent only (the
// Content-Security-Policy also refuses inline script and string-to-HTML sinks).
const TOKEN = 'popguard-preference-link'
const lang = document.documentElement.lang
const $ = (id) => document.getElementById(id)
let strings = {}
let token = null

/** A string of the page's language with its {placeholders} filled. */
const t = (key, values = {}) => (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''))

/** The token from `?token=` or `#token=`, moved out of the address bar (and history) into this tab's storage. */
function takeToken () {
  const url = new URL(window.location.href)
  let fresh = url.searchParams.get('token')
  if (fresh === null && url.hash.startsWith('#token=')) fresh = decodeURIComponent(url.hash.slice('#token='.length))
  if (fresh !== null && fresh !== '') {
    window.sessionStorage.setItem(TOKEN, fresh)
    url.searchParams.delete('token')
    window.history.replaceState(null, '', url.pathname + url.search)
  }
  return window.sessionStorage.getItem(TOKEN)
}

class ApiError extends Error {
  constructor (status, message) {
    super(message)
    this.status = status
  }
}

async function api (method, path, body) {
  const res = await fetch(`${path}?lang=${encodeURIComponent(lang)}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store'
  })
  const json = await res.json().catch(() => ({}))
  if (!res.ok) throw new ApiError(res.status, typeof json.message === 'string' ? json.message : String(res.status))
  return json
}

/** A time in the user's own time zone (the device's), with the zone named. */
const WHEN = { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }
const when = (iso) => new Intl.DateTimeFormat(lang, WHEN).format(new Date(iso))

function node (tag, attrs = {}, text) {
  const n = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v)
  if (text !== undefined) n.textContent = text
  return n
}

function status (message, bad = false) {
  const s = $('status')
  s.textContent = message
  s.classList.toggle('bad', bad)
}

function problem (key) {
  $('center').hidden = true
  $('problem').hidden = false
  $('problem-text').textContent = t(key)
  status('')
  document.body.dataset.ready = 'error'
}

function render (view) {
  const p = view.preferences
  $('marketing').checked = p.marketing === 'on'

  const list = $('categories')
  list.replaceChildren()
  if (view.categories.length === 0) list.append(node('li', { class: 'hint' }, t('noCategories')))
  view.categories.forEach((c, i) => {
    const id = `category-${i}`
    const li = node('li')
    const row = node('div', { class: 'row' })
    const input = node('input', { id, type: 'checkbox', role: 'switch', 'data-category': c.id })
    input.checked = c.value === 'on'
    const label = node('label', { for: id }, c.name)
    row.append(label, input)
    li.append(row)
    if (c.examples.length > 0) {
      const ex = node('p', { class: 'examples', id: `${id}-examples` }, t('categoryExamples', { examples: c.examples.join(', ') }))
      input.setAttribute('aria-describedby', ex.id)
      li.append(ex)
    }
    input.addEventListener('change', () => {
      const value = input.checked ? 'on' : 'off'
      change(input, 'PUT', `/v1/preference-center/categories/${encodeURIComponent(c.id)}`, { value },
        t(value === 'off' ? 'savedCategoryOff' : 'savedCategoryOn', { name: c.name }))
    })
    list.append(li)
  })

  const snoozing = p.snoozeUntil !== null
  $('snooze-state').textContent = snoozing ? t('snoozeUntil', { time: when(p.snoozeUntil) }) : t('snoozeNone')
  $('snooze-end').hidden = !snoozing

  const n = view.recent.marketingShown
  $('recent').textContent = t(n === 0 ? 'recentZero' : n === 1 ? 'recentOne' : 'recentMany', { n, hours: view.recent.hours })

  const always = $('always')
  always.replaceChildren()
  for (const a of view.alwaysOn) {
    const li = node('li')
    const name = node('p', { class: 'always-name' }, a.name)
    name.append(node('span', { class: 'badge' }, t('alwaysTitle')))
    li.append(name, node('p', { class: 'examples' }, a.reason ?? t(a.class === 'critical' ? 'reasonCritical' : 'reasonService')))
    if (a.examples.length > 0) li.append(node('p', { class: 'examples' }, t('categoryExamples', { examples: a.examples.join(', ') })))
    always.append(li)
  }
  $('problem').hidden = true
  $('center').hidden = false
}

/** One change: sent at once; the page shows what popguard stored, and says so. */
async function change (control, method, path, body, saved) {
  const focused = control.dataset.category ?? ''
  control.disabled = true
  document.body.dataset.busy = 'true'
  try {
    const view = await api(method, path, body)
    lastView = view
    render(view)
    const message = typeof saved === 'function' ? saved(view) : saved
    status(message)
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { problem(/expired/.test(err.message) ? 'errorExpired' : 'errorInvalid'); return }
    status(t('failed', { message: err.message }), true)
    render(lastView)
  } finally {
    control.disabled = false
    delete document.body.dataset.busy
    // Keyboard users stay where they were: the list was drawn anew, and "End the break" hides once it is done.
    let again = control.isConnected ? control : document.querySelector(`[data-category="${window.CSS.escape(focused)}"]`)
    if (again === null || again.hidden) again = document.querySelector('button[data-days="1"]')
    if (again !== null && document.activeElement === document.body) again.focus()
  }
}

let lastView = null
async function load () {
  try {
    lastView = await api('GET', '/v1/preference-center')
    render(lastView)
    status('')
    document.body.dataset.ready = 'true'
  } catch (err) {
    if (!(err instanceof ApiError)) { problem('errorUnavailable'); return }
    problem(err.status === 401 ? (/expired/.test(err.message) ? 'errorExpired' : 'errorInvalid') : err.status === 404 ? 'errorOff' : 'errorUnavailable')
  }
}

async function start () {
  token = takeToken()
  strings = await (await fetch(`/preferences/strings/${lang}.json`)).json()
  if (token === null || token === '') { problem('errorMissing'); return }
  $('marketing').addEventListener('change', () => {
    const value = $('marketing').checked ? 'on' : 'off'
    change($('marketing'), 'PUT', '/v1/preference-center/marketing', { marketing: value }, t(value === 'off' ? 'savedMarketingOff' : 'savedMarketingOn'))
  })
  for (const button of document.querySelectorAll('button[data-days]')) {
    button.addEventListener('click', () => {
      const days = Number(button.dataset.days)
      change(button, 'PUT', '/v1/preference-center/snooze', { days },
        (view) => days === 0 ? t('savedSnoozeEnd') : t('savedSnooze', { time: when(view.preferences.snoozeUntil) }))
    })
  }
  await load()
}

start()
