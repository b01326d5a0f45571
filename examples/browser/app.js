// The example shop's page: asks popguard from the browser with the SDK (served at /sdk/) and an
// end-user token its own backend signs (/token), shows the pop-up, reports shown and dismissed.
import { PopguardClient } from './sdk/index.js'

const config = await (await fetch('/config.json')).json()
// A real app knows its user from its session; the example takes it (and how often events leave) from the URL.
const params = new URLSearchParams(window.location.search)
const user = params.get('user') ?? 'alice'
const flushIntervalMs = Number(params.get('flushEvery') ?? 2000)

// The token comes from the app's backend, which knows who is signed in; it is short-lived, so
// fetched again a little before it expires.
let cached = null
async function userToken () {
  if (cached === null || cached.expiresAt - Date.now() < 30_000) {
    const res = await fetch('/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) })
    if (!res.ok) throw new Error(`token: ${res.status}`)
    cached = await res.json()
  }
  return cached.token
}

const popguard = new PopguardClient({ baseUrl: config.popguardUrl, apiKey: config.apiKey, userToken, flushIntervalMs })
const $ = (id) => document.getElementById(id)
$('user').textContent = user

const decision = await popguard.decide({ userId: user, placement: 'home_banner', candidates: ['spring-sale', 'quick-loan'] })
if (decision.show === null) {
  // Nothing to show, or popguard could not be asked (timeout, 503...): the page goes on without a pop-up.
  $('status').textContent = `Nothing to show (${decision.reason}).`
  document.body.dataset.state = 'nothing'
} else {
  $('popup-title').textContent = decision.show.campaignId
  $('popup').hidden = false
  popguard.shown(decision)
  $('status').textContent = `Showing ${decision.show.campaignId}.`
  document.body.dataset.state = 'shown'
  $('popup-close').addEventListener('click', async () => {
    $('popup').hidden = true
    popguard.dismissed(decision)
    await popguard.flush()
    document.body.dataset.events = `${popguard.pendingEvents} waiting`
  })
}

$('as-other').addEventListener('click', async () => {
  // The token names this user: popguard refuses to decide for anyone else with it.
  const other = await popguard.decide({ userId: `${user}-neighbour`, placement: 'home_banner', candidates: ['spring-sale'] })
  $('other-result').textContent = `${other.reason} ${other.status ?? ''}`.trim()
})
