/**
 * The npm lockfile: it exists, pins every package by an integrity hash, and every package came
 * over https from the configured registry. Findings are sentences naming the package.
 */
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { capped } from './_shared.js'

interface LockEntry {
  version?: string
  resolved?: string
  integrity?: string
  link?: boolean
  inBundle?: boolean
  dependencies?: Record<string, LockEntry>
}

/** The registry npm installs from, per scope, as npm reads it: environment, then project and user .npmrc. */
function npmRegistries(
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
