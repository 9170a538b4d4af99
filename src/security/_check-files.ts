/**
 * Deploy checks that read the project's files: the npm lockfile, and secrets in files git tracks.
 * Each returns its findings as sentences naming the file; a secret is never repeated in full.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** At most this many findings are listed one by one; the rest are counted. */
const listed = 20

function capped(findings: string[]): string[] {
  if (findings.length <= listed) return findings
  return [...findings.slice(0, listed), `… and ${findings.length - listed} more like these`]
}

// --- The npm lockfile -----------------------------------------------------------------------

interface LockEntry {
  version?: string
  resolved?: string
  integrity?: string
  link?: boolean
  inBundle?: boolean
  dependencies?: Record<string, LockEntry>
}

/** The registry npm installs from, per scope, as npm reads it: environment, then project and user .npmrc. */
export function npmRegistries(
  cwd: string,
  env: NodeJS.ProcessEnv,
): { registry: string; scopes: Map<string, string> } {
  let registry = 'https://registry.npmjs.org/'
  const scopes = new Map<string, string>()
  // Lowest precedence first, so later sources overwrite.
  for (const file of [join(homedir(), '.npmrc'), join(cwd, '.npmrc')]) {
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
      const match = /^\s*(@[^:\s]+:)?registry\s*=\s*(\S+)\s*$/.exec(line)
      if (!match) continue
      if (match[1]) scopes.set(match[1].slice(0, -1), withSlash(match[2] as string))
      else registry = withSlash(match[2] as string)
    }
  }
  const fromEnv = env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY
  if (fromEnv) registry = withSlash(fromEnv)
  return { registry, scopes }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`
}

/**
 * The lockfile exists and pins every package by an integrity hash, and every package npm fetched
 * came over https from the configured registry. An entry without `resolved` is fine: npm then
 * fetches from the configured registry (what `omit-lockfile-registry-resolved` writes).
 */
export function lockfileFindings(cwd: string, env: NodeJS.ProcessEnv): string[] {
  const lockfile = ['npm-shrinkwrap.json', 'package-lock.json'].find((name) => existsSync(join(cwd, name)))
  if (lockfile === undefined) {
    if (!existsSync(join(cwd, 'package.json'))) return []
    const other = ['yarn.lock', 'pnpm-lock.yaml', 'bun.lock'].find((name) => existsSync(join(cwd, name)))
    return other
      ? [`only ${other} was found; shipshape checks npm lockfiles (package-lock.json)`]
      : [
          'package.json has no package-lock.json beside it: installs are not reproducible (run npm install and commit the lockfile)',
        ]
  }
  let lock: {
    lockfileVersion?: number
    packages?: Record<string, LockEntry>
    dependencies?: Record<string, LockEntry>
  }
  try {
    lock = JSON.parse(readFileSync(join(cwd, lockfile), 'utf8'))
  } catch (error) {
    return [`${lockfile} is not valid JSON (${(error as Error).message.split('\n')[0]})`]
  }
  if (lock === null || typeof lock !== 'object') return [`${lockfile} is not a lockfile`]
  const { registry, scopes } = npmRegistries(cwd, env)
  const findings: string[] = []
  const entries: Array<[string, LockEntry]> = []
  if (lock.packages && typeof lock.packages === 'object') {
    for (const [path, entry] of Object.entries(lock.packages)) {
      // "" is the project itself; paths without node_modules/ are workspace folders.
      if (path === '' || !path.includes('node_modules/')) continue
      entries.push([path.slice(path.lastIndexOf('node_modules/') + 13), entry])
    }
  } else if (lock.dependencies && typeof lock.dependencies === 'object') {
    // lockfileVersion 1 nests dependencies.
    const walk = (dependencies: Record<string, LockEntry>) => {
      for (const [name, entry] of Object.entries(dependencies)) {
        entries.push([name, entry])
        if (entry && typeof entry.dependencies === 'object') walk(entry.dependencies)
      }
    }
    walk(lock.dependencies)
  } else {
    return [`${lockfile} lists no packages (no "packages" or "dependencies")`]
  }
  for (const [name, entry] of entries) {
    if (entry === null || typeof entry !== 'object') {
      findings.push(`${name}: not a lockfile entry`)
      continue
    }
    if (entry.link === true || entry.inBundle === true) continue
    const resolved = typeof entry.resolved === 'string' ? entry.resolved : undefined
    if (resolved !== undefined && !resolved.startsWith('https://')) {
      findings.push(`${name}: resolved from ${describeSource(resolved)}, not over https from a registry`)
      continue
    }
    if (typeof entry.integrity !== 'string' || entry.integrity === '') {
      findings.push(`${name}: no integrity hash, so a tampered download would install unnoticed`)
      continue
    }
    if (!/^sha(256|384|512)-/.test(entry.integrity)) {
      findings.push(
        `${name}: integrity is ${entry.integrity.split('-')[0]} only, which can be forged; reinstall to get sha512`,
      )
    }
    if (resolved !== undefined) {
      const scope = name.startsWith('@') ? name.split('/')[0] : undefined
      const expected = (scope && scopes.get(scope)) ?? registry
      if (!resolved.startsWith(expected))
        findings.push(`${name}: resolved from ${originOf(resolved)}, not the configured registry ${expected}`)
    }
  }
  return capped(findings)
}

function describeSource(resolved: string): string {
  if (resolved.startsWith('http://')) return `${originOf(resolved)} over plain http`
  if (resolved.startsWith('git')) return 'a git repository'
  if (resolved.startsWith('file:')) return 'a local file'
  return JSON.stringify(resolved.slice(0, 60))
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return JSON.stringify(url.slice(0, 60))
  }
}

// --- Secrets in files git tracks ------------------------------------------------------------

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
/** A line carrying this marker is not reported: for test fixtures and documentation. */
export const allowSecretMarker = 'shipshape: allow-secret'
/** Dotenv files meant to be committed: they hold names and examples, not values. */
const exampleDotenv = /\.(?:example|sample|template|dist|defaults)$/i
const keyStoreFile = /\.(?:p12|pfx|jks|keystore)$/i
const largestScanned = 1024 * 1024

/** Files git tracks under `cwd`; undefined when `cwd` is not in a git work tree. */
export function trackedFiles(cwd: string): string[] | undefined {
  try {
    const output = execFileSync('git', ['ls-files', '-z', '--cached'], {
      cwd,
      encoding: 'buffer',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 256 * 1024 * 1024,
    })
    return output.toString('utf8').split('\0').filter(Boolean)
  } catch {
    return undefined
  }
}

/** Secrets, dotenv files and key stores among the files git tracks. */
export function trackedSecretFindings(cwd: string): string[] | undefined {
  const files = trackedFiles(cwd)
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
      for (const match of line.matchAll(urlWithPassword)) {
        const [, password = '', host = ''] = match
        if (placeholderPassword.test(password) || exampleHost.test(host)) continue
        findings.push(`${file}:${index + 1}: a URL with a password for ${host} (${mask(password)})`)
      }
    })
  }
  return capped(findings)
}

/** Enough of a secret to find it, not enough to use it. */
export function mask(secret: string): string {
  if (secret.startsWith('-----')) return secret
  // A quarter of it at most, so a short password is not half given away.
  return `${secret.slice(0, Math.min(4, Math.floor(secret.length / 4)))}… ${secret.length} characters`
}
