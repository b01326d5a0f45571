import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import type { PolicyFile } from '../rules/policy/schema.js'
import { policyFileErrors } from '../rules/policy/validate.js'

export class PolicyFileError extends Error {
  constructor (file: string, problems: string[]) {
    super(`policy file ${file} is invalid:\n  ${problems.join('\n  ')}`)
    this.name = 'PolicyFileError'
  }
}

/** A JSON or YAML document read from a file, not yet validated (PolicyFileError when unreadable or unparsable). */
export async function readPolicyDocument (file: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new PolicyFileError(file, [(err as Error).message])
  }
  try {
    return /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw new PolicyFileError(file, [`cannot parse: ${(err as Error).message}`])
  }
}

/** Reads a `{policy, campaigns}` document from JSON or YAML and validates it whole. */
export async function loadPolicyFile (file: string): Promise<PolicyFile> {
  const value = await readPolicyDocument(file)
  const errors = policyFileErrors(value)
  if (errors.length > 0) throw new PolicyFileError(file, errors.map((e) => `${e.path}: ${e.message}`))
  return value as PolicyFile
}
