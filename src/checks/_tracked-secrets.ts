/**
 * Secrets in the files git tracks: credentials by their shape, URLs with passwords, secret keys
 * assigned as literals, dotenv files and key stores. A secret is never repeated in full.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gitTrackedFiles } from '../config/index.js'
import { capped, mask } from './_shared.js'

/** Patterns of credentials that are secret by their shape alone. */
const secretPatterns: Array<[string, RegExp]> = [
  ['a private key', /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/],
  ['an AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['a GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b/],
  ['a Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ['a Stripe live key', /\b[sr]k_live_[A-Za-z0-9]{16,}/],
  ['a Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['an npm token', /\bnpm_[A-Za-z0-9]{36}\b/],
]
/** A URL with a password in it: `postgres://user:password@host`. */
const urlWithPassword = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/'"`]+:([^\s@/'"`]+)@([^\s/:'"`?#\\]+)/gi
/** Passwords in URLs that are obviously examples. */
const placeholderPassword =
  /^(?:\$\{?[\w]+\}?|<[^>]*>|\*+|x+|password|passwd|pass|secret|changeme|example|\.\.\.|…)$/i
const exampleHost = /(?:^|\.)(?:example(?:\.com|\.org|\.net)?|localhost|invalid|test)$|^127\.|^\[?::1\]?$/i
/**
 * A key variable assigned a literal, in code or config (`SECRET_KEY = '…'`, `secret_key: …`,
 * `"SESSION_SECRET": "…"`): the value is in every clone. A quoted value counts anywhere; an
 * unquoted one only when it is the whole rest of the line and looks like a key (it has a digit),
 * so `SECRET_KEY = readKey()` or `SECRET_KEY: ${SECRET_KEY}` are not literals.
 */
function secretKeyLiteral(names: readonly string[]): RegExp {
  const name = `(?:${names.join('|')})`
  const quoted = `(["'\`])([^"'\`\\s]{8,})\\2`
  const bare = `((?=[^\\s]*\\d)[A-Za-z0-9+/=_~-]{16,})\\s*(?:#.*)?$`
  return new RegExp(`(?:^|[^\\w.])["']?(${name})["']?\\s*(?::=|:|=)\\s*(?:${quoted}|${bare})`, 'i')
}
/** A line carrying this marker is not reported: for test fixtures and documentation. */
const allowSecretMarker = 'shipshape: allow-secret'
/** Dotenv files meant to be committed: they hold names and examples, not values. */
const exampleDotenv = /\.(?:example|sample|template|dist|defaults)$/i
const keyStoreFile = /\.(?:p12|pfx|jks|keystore)$/i
const largestScanned = 1024 * 1024

/**
 * Secrets, dotenv files and key stores among the files git tracks. `secretKeyNames` are the key
 * variables the secret-key check judges: a literal value assigned to one of them is a finding.
 */
export function trackedSecretFindings(
  cwd: string,
  secretKeyNames: readonly string[],
  isPlaceholder: (value: string) => boolean,
): string[] | undefined {
  const keyLiteral = secretKeyLiteral(secretKeyNames)
  const files = gitTrackedFiles(cwd)
  if (files === undefined) return undefined
  const findings: string[] = []
  for (const file of files) {
    const base = file.slice(file.lastIndexOf('/') + 1)
    if (/^\.env(?:\..+)?$/.test(base) && !exampleDotenv.test(base)) {
      findings.push(`${file}: a dotenv file is tracked by git; its values are in every clone and in history`)
      continue
    }
    if (keyStoreFile.test(base)) {
      findings.push(`${file}: a key store is tracked by git`)
      continue
    }
    const path = join(cwd, file)
    let text: string
    try {
      if (statSync(path).size > largestScanned) continue
      const bytes = readFileSync(path)
      if (bytes.subarray(0, 8000).includes(0)) continue
      text = bytes.toString('utf8')
    } catch {
      continue // deleted in the work tree but still in the index: nothing to read
    }
    text.split('\n').forEach((line, index) => {
      if (line.includes(allowSecretMarker)) return
      for (const [what, pattern] of secretPatterns) {
        const match = pattern.exec(line)
        if (match) findings.push(`${file}:${index + 1}: ${what} (${mask(match[0])})`)
      }
      const literal = exampleDotenv.test(base) ? null : keyLiteral.exec(line)
      const value = literal?.[3] ?? literal?.[4]
      if (literal && value && !value.startsWith('$') && !isPlaceholder(value))
        findings.push(`${file}:${index + 1}: a ${literal[1]} value (${mask(value)})`)
      for (const match of line.matchAll(urlWithPassword)) {
        const [, password = '', host = ''] = match
        if (placeholderPassword.test(password) || exampleHost.test(host)) continue
        findings.push(`${file}:${index + 1}: a URL with a password for ${host} (${mask(password)})`)
      }
    })
  }
  return capped(findings)
}
