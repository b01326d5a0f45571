// The report page: signs in with a reports key (kept in sessionStorage), reads the JSON reports
// and draws its charts as SVG. No library, nothing fetched from outside the service. Campaign names
// and penalty reasons are free text typed by people: they only ever reach the page as textContent
// (the Content-Security-Policy also refuses inline script and string-to-HTML sinks).
const KEY = 'popguard-reports-key'
const SVG = 'http://www.w3.org/2000/svg'
const COLORS = ['#2364aa', '#e07a1f', '#8e44ad', '#16a085', '#c0392b', '#7f8c8d', '#d4ac0d', '#2c3e50', '#27ae60', '#e84393']
const $ = (id) => document.getElementById(id)
const pct = (x) => x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`
const fmt = (n) => n.toLocaleString('en-US')
const num = (x) => x === null || x === undefined ? '–' : x.toFixed(2)
/** Why the interval needs care, and what the day-to-day check found (docs/marketers.md). */
const CAVEATS = {
  few_users: 'A cohort has fewer than 200 user-days: with so few, the interval is likely too narrow.',
  spread_not_recorded: 'No interval: some of these days were counted before popguard recorded the spread per user.'
}
const AGREEMENT = {
  days_differ: 'The daily figures vary more than chance allows: the reduction changed during these days.',
  users_return: 'The daily figures agree more than chance allows: the same users come back day after day, so the interval above is too narrow; a single day\'s interval is the safe reading.'
}
/** How a campaign is named on the page: its registry name, or its id when the registry no longer knows it. */
const nameOf = (c) => c.name ?? c.campaignId

class AuthError extends Error {}

async function api (path, accept = 'application/json') {
  const res = await fetch(path, { headers: { authorization: `Bearer ${window.sessionStorage.getItem(KEY)}`, accept } })
  if (res.status === 401 || res.status === 403) throw new AuthError((await res.json()).message)
  if (!res.ok) throw new Error(`${res.status}: ${(await res.json()).message}`)
  return accept === 'text/csv' ? await res.text() : await res.json()
}

function el (name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}

function chartFrame (container, width, height) {
  container.replaceChildren()
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' })
  container.append(svg)
  return svg
}

function empty (container, message) {
  container.replaceChildren()
  const p = document.createElement('p')
  p.className = 'empty muted'
  p.textContent = message
  container.append(p)
}

function legend (svg, items, x, y) {
  items.forEach((item, i) => {
    const g = el('g', { transform: `translate(${x + (i % 5) * 150}, ${y + Math.floor(i / 5) * 16})` })
    g.append(el('rect', { width: 10, height: 10, fill: item.color, y: -9 }), el('text', { x: 14 }, item.name))
    svg.append(g)
  })
}

/** Lines of fractions (0..1) per day; a null value breaks the line. */
function lineChart (container, days, series) {
  const W = 900; const H = 260; const L = 48; const R = 16; const T = 14; const B = 56
  if (!series.some((s) => s.values.some((v) => v !== null))) return empty(container, 'No reduction can be computed yet: it needs shown pop-ups in both cohorts.')
  const svg = chartFrame(container, W, H)
  const values = series.flatMap((s) => s.values.filter((v) => v !== null))
  const lo = Math.min(0, ...values); const hi = Math.max(1, ...values)
  const x = (i) => L + (days.length === 1 ? (W - L - R) / 2 : i * (W - L - R) / (days.length - 1))
  const y = (v) => T + (hi - v) / (hi - lo) * (H - T - B)
  for (let t = Math.ceil(lo * 4) / 4; t <= hi + 1e-9; t += 0.25) {
    svg.append(el('line', { x1: L, x2: W - R, y1: y(t), y2: y(t), stroke: '#e6ebf0' }), el('text', { x: L - 6, y: y(t) + 4, 'text-anchor': 'end' }, pct(t)))
  }
  days.forEach((d, i) => { if (days.length <= 16 || i % Math.ceil(days.length / 16) === 0) svg.append(el('text', { x: x(i), y: H - B + 16, 'text-anchor': 'middle' }, d.slice(5))) })
  for (const s of series) {
    // The 95% interval of each day, as a whisker (clipped to the chart).
    s.ci?.forEach((ci, i) => {
      if (ci === null || s.values[i] === null) return
      const clip = (v) => Math.min(hi, Math.max(lo, v))
      svg.append(el('line', { x1: x(i), x2: x(i), y1: y(clip(ci.low)), y2: y(clip(ci.high)), stroke: s.color, 'stroke-opacity': 0.45, 'stroke-width': 6, class: 'whisker' }))
    })
    let path = ''
    s.values.forEach((v, i) => { if (v !== null) path += `${path === '' || s.values[i - 1] === null ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}` })
    svg.append(el('path', { d: path, fill: 'none', stroke: s.color, 'stroke-width': 2.5, class: 'series' }))
    s.values.forEach((v, i) => {
      if (v === null) return
      const dot = el('circle', { cx: x(i), cy: y(v), r: 3.5, fill: s.color, class: 'point' })
      const ci = s.ci?.[i]
      dot.append(el('title', {}, `${days[i]} ${s.name}: ${pct(v)}${ci ? ` (95% CI ${pct(ci.low)} to ${pct(ci.high)})` : ''}`))
      svg.append(dot)
    })
  }
  legend(svg, series, L, H - 14)
}

/** One stacked bar per day. */
function stackedBars (container, days, stacks) {
  const W = 900; const H = 270; const L = 56; const R = 16; const T = 14; const B = 60
  const totals = days.map((_, i) => stacks.reduce((s, st) => s + st.values[i], 0))
  const max = Math.max(...totals)
  if (max === 0) return empty(container, 'No decisions in this range.')
  const svg = chartFrame(container, W, H)
  const step = (W - L - R) / days.length; const bw = Math.max(2, step * 0.7)
  const y = (v) => T + (1 - v / max) * (H - T - B)
  for (let k = 0; k <= 4; k++) {
    const v = Math.round(max * k / 4)
    svg.append(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#e6ebf0' }), el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)))
  }
  days.forEach((d, i) => {
    let base = 0
    for (const st of stacks) {
      const v = st.values[i]
      if (v > 0) {
        const rect = el('rect', { x: L + i * step + (step - bw) / 2, y: y(base + v), width: bw, height: y(base) - y(base + v), fill: st.color, class: 'bar' })
        rect.append(el('title', {}, `${d} ${st.name}: ${fmt(v)}`))
        svg.append(rect)
      }
      base += v
    }
    if (days.length <= 16 || i % Math.ceil(days.length / 16) === 0) svg.append(el('text', { x: L + i * step + step / 2, y: H - B + 16, 'text-anchor': 'middle' }, d.slice(5)))
  })
  legend(svg, stacks, L, H - 22)
}

/** Horizontal bars, largest first. */
function barList (container, items, message) {
  if (items.length === 0) return empty(container, message)
  const W = 440; const row = 26; const L = 150; const H = items.length * row + 8
  const svg = chartFrame(container, W, H)
  const max = Math.max(...items.map((i) => i.value))
  items.forEach((item, i) => {
    const w = Math.max(2, item.value / max * (W - L - 140))
    svg.append(el('text', { x: L - 8, y: i * row + 17, 'text-anchor': 'end' }, item.label.length > 22 ? item.label.slice(0, 21) + '…' : item.label))
    const rect = el('rect', { x: L, y: i * row + 5, width: w, height: row - 10, fill: item.color, class: 'bar' })
    rect.append(el('title', {}, `${item.label}: ${item.note}`))
    svg.append(rect, el('text', { x: L + w + 6, y: i * row + 17 }, item.note))
  })
}

const cohortLine = (name, c) => `${name}: ${fmt(c.users)} user-days, ${num(c.perUser)} shown per user (sd ${num(c.sdPerUser)})`

/** The holdout figure: the reduction, its interval, each cohort, and any caveat or disagreement of the day-to-day check. */
function holdoutFigure (s, check) {
  $('fig-holdout').textContent = pct(s.reduction)
  $('fig-holdout-detail').textContent = s.reduction === null
    ? 'Needs shown pop-ups in the holdout cohort.'
    : `95% CI ${s.ci95 ? `${pct(s.ci95.low)} to ${pct(s.ci95.high)}` : 'n/a'}`
  $('fig-holdout-cohorts').textContent = `${cohortLine('Treated', s.treated)} · ${cohortLine('Holdout', s.holdout)}`
  const notes = []
  if (s.caveat !== null) notes.push(CAVEATS[s.caveat])
  if (check !== null && check.agreement !== 'agree') {
    notes.push(`Day-to-day check over ${check.days} days: 95% CI ${pct(check.ci95.low)} to ${pct(check.ci95.high)}. ${AGREEMENT[check.agreement]}`)
  }
  $('fig-holdout-check').textContent = notes.join(' ')
  $('fig-holdout-check').hidden = notes.length === 0
}

/** What 1%, 2%, 5%, 10% or 20% of users in the holdout would give, from this range's users and spread. */
function sizingTable (z) {
  const body = $('sizing').querySelector('tbody')
  body.replaceChildren()
  if (z === null) {
    $('sizing-basis').textContent = 'Needs a range with an interval: shown pop-ups in both cohorts.'
    return
  }
  $('sizing-basis').textContent = `Expected ± of the 95% interval for other holdout sizes, with this range's ${fmt(Math.round(z.dailyUsers))} users a day, ` +
    `their spread (sd / mean of pop-ups per user: treated ${num(z.cvTreated)}, holdout ${num(z.cvHoldout)}) and a reduction of ${pct(z.reduction)}. ` +
    'Several days assume users do not come back.'
  for (const percent of [...new Set(z.rows.map((r) => r.holdoutPercent))]) {
    const tr = document.createElement('tr')
    const cells = [`${percent}%`, ...z.rows.filter((r) => r.holdoutPercent === percent).map((r) => `± ${(r.halfWidth * 100).toFixed(1)} pts`)]
    for (const text of cells) {
      const td = document.createElement('td')
      td.textContent = text
      tr.append(td)
    }
    body.append(tr)
  }
}

function render (daily, campaigns) {
  holdoutFigure(daily.summary.holdout, daily.summary.dailySpread)
  sizingTable(daily.summary.sizing)
  $('fig-requested').textContent = pct(daily.summary.marketingReduction)
  const m = daily.days.reduce((a, d) => ({ requested: a.requested + d.marketing.requested, shown: a.shown + d.marketing.shown }), { requested: 0, shown: 0 })
  $('fig-requested-detail').textContent = `${fmt(m.shown)} shown of ${fmt(m.requested)} marketing requests`
  const totals = daily.days.reduce((a, d) => ({ decisions: a.decisions + d.decisions, allowed: a.allowed + d.allowed }), { decisions: 0, allowed: 0 })
  $('fig-decisions').textContent = fmt(totals.decisions)
  $('fig-decisions-detail').textContent = `${fmt(totals.allowed)} answered with a pop-up; bars below count candidates`

  const days = daily.days.map((d) => d.day)
  lineChart($('chart-reduction'), days, [
    { name: 'holdout vs treated', color: COLORS[0], values: daily.days.map((d) => d.holdout.reduction), ci: daily.days.map((d) => d.holdout.ci95) },
    { name: 'vs marketing requests', color: COLORS[1], values: daily.days.map((d) => d.marketing.reduction) }
  ])
  const reasons = [...new Set(daily.days.flatMap((d) => Object.keys(d.suppressed)))].sort()
  stackedBars($('chart-outcomes'), days, [
    { name: 'shown (confirmed)', color: '#2e8540', values: daily.days.map((d) => d.shown) },
    ...reasons.map((r, i) => ({ name: r.replaceAll('_', ' '), color: COLORS[(i + 1) % COLORS.length], values: daily.days.map((d) => d.suppressed[r] ?? 0) }))
  ])
  const prefs = (key) => daily.days.map((d) => d.preferences?.[key] ?? 0)
  if (daily.days.some((d) => d.preferences !== undefined && d.preferences.marketingOff + d.preferences.categoryOff + d.preferences.snoozed > 0)) {
    stackedBars($('chart-preferences'), days, [
      { name: 'all marketing off', color: COLORS[4], values: prefs('marketingOff') },
      { name: 'a category off', color: COLORS[1], values: prefs('categoryOff') },
      { name: 'a break started', color: COLORS[2], values: prefs('snoozed') }
    ])
  } else empty($('chart-preferences'), 'No user switched marketing off or took a break in these days.')
  const suppressedOf = (c) => Object.values(c.suppressed).reduce((a, b) => a + b, 0)
  barList($('chart-suppressed'), campaigns.filter((c) => suppressedOf(c) > 0).sort((a, b) => suppressedOf(b) - suppressedOf(a)).slice(0, 10)
    .map((c) => ({ label: nameOf(c), value: suppressedOf(c), note: `${fmt(suppressedOf(c))} of ${fmt(c.requested)}`, color: COLORS[1] })), 'No campaign was suppressed.')
  barList($('chart-complaints'), campaigns.filter((c) => c.complained > 0).sort((a, b) => b.complained - a.complained).slice(0, 10)
    .map((c) => ({ label: nameOf(c), value: c.complained, note: `${fmt(c.complained)} (${pct(c.complaintRate)} of shown)`, color: COLORS[4] })), 'No complaints in this range.')
  const body = $('penalties').querySelector('tbody')
  const row = (cells) => {
    const tr = document.createElement('tr')
    for (const v of cells) {
      const td = document.createElement('td')
      td.textContent = v
      tr.append(td)
    }
    return tr
  }
  body.replaceChildren(...campaigns.filter((c) => c.penalty !== null)
    .map((c) => row([nameOf(c), c.campaignId, c.penalty.action, c.penalty.reason, c.penalty.until ?? 'until lifted', c.penalty.by])))
  if (body.children.length === 0) {
    const none = row(['No campaign is under a penalty.'])
    none.firstChild.colSpan = 6
    none.firstChild.className = 'muted'
    body.append(none)
  }
}

async function load () {
  const q = `from=${$('from').value}&to=${$('to').value}`
  $('status').textContent = 'Loading…'
  try {
    const [daily, campaigns] = await Promise.all([api(`/v1/reports/daily?${q}`), api(`/v1/reports/campaigns?${q}`)])
    render(daily, campaigns.campaigns)
    $('status').textContent = `Days in ${daily.timezone}`
    document.body.dataset.loaded = 'true'
  } catch (err) {
    if (err instanceof AuthError) return signOut(err.message)
    $('status').textContent = err.message
  }
}

function signOut (message = '') {
  window.sessionStorage.removeItem(KEY)
  $('dashboard').hidden = true
  $('logout').hidden = true
  $('login').hidden = false
  $('login-error').textContent = message
}

function signedIn () {
  $('login').hidden = true
  $('dashboard').hidden = false
  $('logout').hidden = false
  return load()
}

const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
$('from').value = day(-13)
$('to').value = day(0)
$('login').addEventListener('submit', (e) => {
  e.preventDefault()
  window.sessionStorage.setItem(KEY, $('key').value.trim())
  $('key').value = ''
  signedIn()
})
$('range').addEventListener('submit', (e) => { e.preventDefault(); load() })
$('logout').addEventListener('click', () => signOut())
$('csv').addEventListener('click', async () => {
  try {
    const csv = await api(`/v1/reports/campaigns?from=${$('from').value}&to=${$('to').value}`, 'text/csv')
    const a = document.createElement('a')
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }))
    a.download = `campaigns-${$('from').value}-${$('to').value}.csv`
    a.click()
  } catch (err) {
    if (err instanceof AuthError) signOut(err.message)
  }
})
if (window.sessionStorage.getItem(KEY) !== null) signedIn()
