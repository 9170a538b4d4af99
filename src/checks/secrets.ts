/** Checks that the keys which sign and encrypt are long, random, not examples and not in git. */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDotenv } from '../config/index.js'
import { mask } from './_shared.js'
import { readVariable, secretKeyVariables } from './_variables.js'
import type { DeployCheck } from './types.js'

const mediaSigningKeysVariable = 'SHIPSHAPE_MEDIA_SIGNING_KEYS'

/** Secret values that are examples, not secrets. */
export const placeholderSecret =
  /change.?me|insecure|example|placeholder|secret|password|default|dummy|x{6,}|^(.)\1+$/i

function secretProblems(name: string, value: string, exampleValues: Set<string>): string[] {
  const problems: string[] = []
  if (value.length < 32)
    problems.push(`${name} is ${value.length} characters long; use at least 32 random ones`)
  else if (new Set(value).size < 8)
    problems.push(`${name} uses only ${new Set(value).size} distinct characters: it is guessable`)
  if (placeholderSecret.test(value))
    problems.push(`${name} looks like a placeholder (${mask(value)}), not a random key`)
  if (exampleValues.has(value))
    problems.push(`${name} is the value from the example env file, which everyone can read`)
  return problems
}

/** Values assigned in the committed example env files (.env.example and the like), read as config reads .env. */
function exampleEnvValues(cwd: string): Set<string> {
  const values = new Set<string>()
  for (const name of ['.env.example', '.env.sample', '.env.template']) {
    const file = join(cwd, name)
    if (!existsSync(file)) continue
    for (const { value } of parseDotenv(readFileSync(file, 'utf8')).values.values())
      if (value !== '') values.add(value)
  }
  return values
}

export const secretKey: DeployCheck = {
  id: 'secret-key',
  subject: 'secrets',
  severity: 'error',
  title: 'Secret keys are long, random, not the example, and not in git',
  fix: "Generate one with `node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"` and pass it as a secret file (NAME_FILE, or the secrets directory) or variable, never from a file git tracks; never reuse the value from .env.example.",
  waitsOn: 'config (secret settings the app declares)',
  run: (context) => {
    const examples = exampleEnvValues(context.cwd)
    const problems: string[] = []
    for (const name of secretKeyVariables) {
      // Read as serve reads a secret setting: a value from a file git tracks is a problem of its own.
      const { value, problems: loading } = readVariable(context, name)
      problems.push(...loading)
      if (value !== undefined) problems.push(...secretProblems(name, value, examples))
    }
    for (const [index, key] of (context.settings?.media.signingKeys ?? []).entries())
      problems.push(...secretProblems(`${mediaSigningKeysVariable} key ${index + 1}`, key.trim(), examples))
    return problems
  },
}
