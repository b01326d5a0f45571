/**
 * `popguard simulate --logs <decisions.ndjson[.gz]> --policy <candidate.json|yaml> [--format table|json|csv]`
 * (docs/simulator.md). The result on stdout, progress and errors on stderr; exit 0, or 2 for bad
 * arguments, an unreadable file, a bad policy or too many malformed lines.
 */
import { parseArgs } from 'node:util'
import { PolicyFileError } from '../config/policy-file.js'
import { FORMATS, formatResult, type Format } from '../simulate/format.js'
import { fileLines, loadCandidatePolicy, ProgressLine } from '../simulate/read.js'
import { Simulator } from '../simulate/simulate.js'
import { LineError } from '../simulate/log-line.js'

const USAGE = `usage: popguard simulate --logs <decisions.ndjson[.gz]> --policy <candidate.json|.yaml> [--format table|json|csv]
                         [--max-bad-lines N] [--quiet]
  Replays a popguard decision log under a candidate policy and prints the report's figures,
  recorded vs candidate. Progress goes to stderr.`

class UsageError extends Error {}

async function simulateCommand (argv: string[]): Promise<void> {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        logs: { type: 'string' },
        policy: { type: 'string' },
        format: { type: 'string', default: 'table' },
        'max-bad-lines': { type: 'string', default: '1000' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false }
      }
    }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n')
    return
  }
  if (values.logs === undefined) throw new UsageError('--logs is required')
  if (values.policy === undefined) throw new UsageError('--policy is required')
  const format = values.format as Format
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`)
  const maxBadLines = Number(values['max-bad-lines'])
  if (!Number.isInteger(maxBadLines) || maxBadLines < 0) throw new UsageError('--max-bad-lines must be a whole number')

  const policy = await loadCandidatePolicy(values.policy)
  let source
  try {
    source = await fileLines(values.logs)
  } catch (err) {
    throw new UsageError(`cannot read ${values.logs}: ${(err as Error).message}`)
  }
  const sim = new Simulator(policy, { maxBadLines })
  const progress = values.quiet ? null : new ProgressLine(source.progress)
  let n = 0
  for await (const line of source.lines) {
    sim.line(line, ++n)
    if ((n & 0x3ff) === 0) progress?.tick(n)
  }
  progress?.done(n)
  const result = sim.result()
  if (result.lines.bad > 0) {
    process.stderr.write(`${result.lines.bad} malformed line(s) skipped:\n` +
      result.badLines.map((b) => `  line ${b.line}: ${b.error}\n`).join('') +
      (result.lines.bad > result.badLines.length ? `  ... and ${result.lines.bad - result.badLines.length} more\n` : ''))
  }
  if (values.quiet !== true) process.stderr.write(`${sim.userCount.toLocaleString('en-US')} distinct users\n`)
  process.stdout.write(formatResult(result, format))
}

export async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === 'simulate') {
      await simulateCommand(rest)
      return 0
    }
    process.stderr.write((command === undefined || command === '--help' || command === '-h' ? '' : `unknown command: ${command}\n`) + USAGE + '\n')
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2
  } catch (err) {
    if (err instanceof UsageError) process.stderr.write(`popguard simulate: ${err.message}\n${USAGE}\n`)
    else if (err instanceof PolicyFileError) process.stderr.write(`popguard simulate: bad candidate policy: ${err.message}\n`)
    else if (err instanceof LineError) process.stderr.write(`popguard simulate: ${err.message}\n`)
    else throw err
    return 2
  }
}
