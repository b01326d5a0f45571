/**
 * Writes a synthetic decision log (gzip when the name ends in .gz) for trying the CLI at scale:
 *   npx tsx bench/generate-decision-log.ts /tmp/decisions.ndjson.gz [lines=1000000] [users=100000]
 * Do not commit the file.
 */
import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { decisionLog } from './lib/decision-log.js'

const [file, lines = '1000000', users = '100000'] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: tsx bench/generate-decision-log.ts <out.ndjson[.gz]> [lines] [users]\n')
  process.exit(2)
}
const source = Readable.from((function * () {
  for (const line of decisionLog({ lines: Number(lines), users: Number(users), start: Date.parse('2026-06-01T00:00:00+08:00') })) yield line + '\n'
})())
const out = createWriteStream(file)
await (file.endsWith('.gz') ? pipeline(source, createGzip(), out) : pipeline(source, out))
process.stderr.write(`${lines} lines, ${users} users → ${file}\n`)
