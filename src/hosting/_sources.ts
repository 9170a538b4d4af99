/**
 * Where each locked package comes from, and whether the lockfile pins it safely: a registry
 * package must carry a sha512 hash and, when the lockfile records its URL, come over https from
 * an allowed host at the URL its name implies (a lockfile edited to point `lodash` at another
 * package's tarball is the attack lockfile-lint was written for). Git, plain-http and tarball-URL
 * dependencies are listed: the registry's advisories and hashes do not cover them.
 */
import type { LockedPackage } from './_lockfiles.js'

export type SourceKind = 'registry' | 'git' | 'http' | 'tarball' | 'local'

export interface LockProblem {
  name: string
  version: string
  path: string[]
  problem: string
}

export interface OtherSource {
  name: string
  version: string
  kind: Exclude<SourceKind, 'registry' | 'local'>
  url: string
}

const gitLike =
  /^(git(\+[a-z]+)?:|github:|gitlab:|bitbucket:|ssh:)|\.git(#|$)|#commit=|^https:\/\/codeload\.github\.com\//

export function sourceOf(pkg: LockedPackage): SourceKind {
  if (pkg.local) return 'local'
  const where = pkg.resolved ?? pkg.specifier
  if (where === undefined || where.startsWith('npm:')) return 'registry'
  if (gitLike.test(where)) return 'git'
  if (where.startsWith('http://')) return 'http'
  if (/\/-\/[^/]+\.tgz(#.*)?$/.test(where)) return 'registry'
  if (where.startsWith('https://')) return 'tarball'
  if (/^(file|link|workspace|portal):/.test(where)) return 'local'
  return 'tarball'
}

/** sha512 as SRI (npm, pnpm, yarn 1, bun), or yarn berry's `<cacheKey>/<sha512 hex>`. */
function isSha512(integrity: string): boolean {
  return integrity
    .split(/\s+/)
    .some((hash) => hash.startsWith('sha512-') || /^(\d+[a-z0-9]*\/)?[0-9a-f]{128}$/.test(hash))
}

/** The registry's tarball path for a name: /<name>/-/<name without scope>-<version>.tgz. */
function tarballMatches(url: URL, pkg: LockedPackage): boolean {
  const path = decodeURIComponent(url.pathname)
  const base = pkg.name.split('/').pop() as string
  return path.endsWith(`/${pkg.name}/-/${base}-${pkg.version}.tgz`)
}

export function judgeSources(
  packages: readonly LockedPackage[],
  allowedHosts: readonly string[],
): { problems: LockProblem[]; others: OtherSource[] } {
  const problems: LockProblem[] = []
  const others: OtherSource[] = []
  for (const pkg of packages) {
    const kind = sourceOf(pkg)
    if (kind === 'local') continue
    const say = (problem: string) =>
      problems.push({ name: pkg.name, version: pkg.version, path: pkg.path, problem })
    if (kind !== 'registry') {
      others.push({
        name: pkg.name,
        version: pkg.version,
        kind,
        url: (pkg.resolved ?? pkg.specifier) as string,
      })
      if (kind === 'http') say(`downloaded over plain http (${pkg.resolved}): anyone on the path can swap it`)
      continue
    }
    if (pkg.integrity === undefined || pkg.integrity === '')
      say('no integrity hash: a tampered download would install unnoticed')
    else if (!isSha512(pkg.integrity))
      say(`integrity is ${pkg.integrity.split('-')[0]} only, which can be forged; reinstall to record sha512`)
    if (pkg.resolved === undefined) continue // the configured registry, at install time
    let url: URL
    try {
      url = new URL(pkg.resolved)
    } catch {
      say(`resolved is not a URL: ${JSON.stringify(pkg.resolved.slice(0, 80))}`)
      continue
    }
    if (!allowedHosts.includes(url.hostname))
      say(`resolved from ${url.hostname}, not an allowed registry host (${allowedHosts.join(', ')})`)
    else if (!tarballMatches(url, pkg))
      say(
        `resolved to ${url.pathname}, which is not ${pkg.name}@${pkg.version}'s tarball: the lockfile may point at another package`,
      )
  }
  return { problems, others }
}
