// Prints a link to the preference centre for one user, signed as an app's backend would sign it,
// with the first HS256 key of POPGUARD_PREFERENCE_LINKS (development and trying it out; a real
// backend signs with its own code: docs/user-control.md, "The preference centre").
//   node scripts/preference-link.mjs <userId> [base URL, default http://localhost:3000] [minutes, default 10]
import { SignJWT } from 'jose'

const [userId, base = 'http://localhost:3000', minutes = '10'] = process.argv.slice(2)
if (userId === undefined || process.env.POPGUARD_PREFERENCE_LINKS === undefined) {
  process.stderr.write('usage: POPGUARD_PREFERENCE_LINKS=... node scripts/preference-link.mjs <userId> [base URL] [minutes]\n')
  process.exit(64)
}
const rules = JSON.parse(process.env.POPGUARD_PREFERENCE_LINKS)
const key = rules.keys.find((k) => k.alg === 'HS256')
if (key === undefined) {
  process.stderr.write('POPGUARD_PREFERENCE_LINKS has no HS256 key: sign with your backend\'s private key instead\n')
  process.exit(64)
}
const token = await new SignJWT({})
  .setProtectedHeader({ alg: 'HS256', ...(key.kid === undefined ? {} : { kid: key.kid }) })
  .setSubject(userId).setIssuer(rules.issuer).setAudience(rules.audience)
  .setIssuedAt().setExpirationTime(`${Number(minutes)}m`)
  .sign(new TextEncoder().encode(key.secret))
process.stdout.write(`${base.replace(/\/$/, '')}/preferences?token=${token}\n`)
