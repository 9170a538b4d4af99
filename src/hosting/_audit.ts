/**
 * `shipshape audit`: the lockfile's sources and hashes, the registry's advisories for every
 * locked version (with the path that pulls it in and the first version that fixes it), the
 * packages that run install scripts, and the versions published less than a minimum age ago.
 * What fails the run: an advisory at or above the fail level that no ignore covers, a lockfile
 * problem, an expired ignore. Advisories that could not be fetched (and no --offline cache) make
 * their own exit code, so CI can tell "vulnerable" from "could not ask".
 */
import semver from 'semver'
import { isShipshapeError } from '../errors/index.js'
import { type Ignore, ignoreFor, isExpired, readIgnores, showPath } from './_ignores.js'
import { type LockedPackage, readProjectLockfile } from './_lockfiles.js'
import {
  type AdvisoryCache,
  type AdvisorySeverity,
  advisoryFile,
  cachedAdvisories,
  fetchAdvisories,
  type PackageFacts,
  packageFacts,
  severityOrder,
} from './_registry.js'
import { judgeSources, type LockProblem, type OtherSource, sourceOf } from './_sources.js'

export interface AuditOptions {
  cwd: string
  /** A lockfile to read instead of looking for one. */
  lockfile?: string
  registry: string
  allowedHosts: readonly string[]
  /** Absolute. */
  cacheDir: string
  /** The advisory cache --offline reads (default: advisories.json in the cache directory). */
  advisoryFile?: string
  offline: boolean
  omitDev: boolean
  minReleaseAgeMs: number
  failLevel: AdvisorySeverity | 'never'
  /** Absolute. */
  ignoreFile: string
  timeoutMs: number
  now?: Date
}

export interface Finding {
  id: string
  /** The GHSA id, from the advisory's URL. */
  ghsa: string | undefined
  name: string
  version: string
  severity: AdvisorySeverity
  title: string
  url: string
  vulnerable: string
  /** The lowest later version outside the vulnerable range; undefined when none is published (or known offline). */
  fixed: string | undefined
  path: string[]
  dev: boolean
  ignored?: Ignore
}

export interface AuditReport {
  lockfile: string
  format: string
  packages: number
  advisories: {
    source: 'registry' | 'cache' | 'unavailable'
    fetchedAt?: string
    reason?: string
    /** Packages the cache did not cover (offline, after the lockfile changed). */
    unchecked: string[]
    findings: Finding[]
  }
  lockProblems: LockProblem[]
  otherSources: OtherSource[]
  installScripts: Array<{ name: string; version: string; path: string[] }>
  young: Array<{ name: string; version: string; published: string; ageHours: number }>
  /** Packages the registry could not tell the age or scripts of. */
  unknownFacts: string[]
  ignores: { expired: Ignore[]; unused: Ignore[] }
  failLevel: AdvisorySeverity | 'never'
  /** 0 passed, 1 failed, 3 the advisories could not be fetched and nothing else failed. */
  exitCode: 0 | 1 | 3
}

export async function audit(options: AuditOptions): Promise<AuditReport> {
  const now = options.now ?? new Date()
  const ignores = readIgnores(options.ignoreFile)
  const lock = readProjectLockfile(options.cwd, options.lockfile)
  const packages = lock.packages.filter((pkg) => !(options.omitDev && pkg.dev) && sourceOf(pkg) !== 'local')
  const { problems, others } = judgeSources(packages, options.allowedHosts)
  const registryPackages = packages.filter((pkg) => sourceOf(pkg) === 'registry')
  const wanted = new Map<string, Set<string>>()
  for (const pkg of registryPackages) {
    const versions = wanted.get(pkg.name) ?? new Set<string>()
    versions.add(pkg.version)
    wanted.set(pkg.name, versions)
  }
  const queried = Object.fromEntries([...wanted].map(([name, versions]) => [name, [...versions].sort()]))
  const registry = { registry: options.registry, cacheDir: options.cacheDir, timeoutMs: options.timeoutMs }
  const [advisories, { facts, failed }] = await Promise.all([
    loadAdvisories(queried, options),
    packageFacts(wanted, { ...registry, offline: options.offline }),
  ])
  const findings = advisories.cache ? match(registryPackages, advisories.cache, facts, ignores) : []
  const today = now.toISOString().slice(0, 10)
  const used = new Set(findings.flatMap((finding) => (finding.ignored ? [finding.ignored] : [])))
  const expired = [...used].filter((ignore) => isExpired(ignore, today))
  const young: AuditReport['young'] = []
  const installScripts: AuditReport['installScripts'] = []
  const unknown = new Set(failed)
  for (const pkg of registryPackages) {
    const known = facts.get(pkg.name)
    const published = known?.time[pkg.version]
    if (published === undefined) unknown.add(pkg.name)
    else if (now.getTime() - Date.parse(published) < options.minReleaseAgeMs)
      young.push({
        name: pkg.name,
        version: pkg.version,
        published,
        ageHours: Math.round((now.getTime() - Date.parse(published)) / 3_600_000),
      })
    if (pkg.installScript ?? known?.installScripts.includes(pkg.version))
      installScripts.push({ name: pkg.name, version: pkg.version, path: pkg.path })
  }
  const failing = findings.some(
    (finding) =>
      finding.ignored === undefined &&
      options.failLevel !== 'never' &&
      severityOrder.indexOf(finding.severity) >= severityOrder.indexOf(options.failLevel),
  )
  const failed1 = failing || problems.length > 0 || expired.length > 0
  return {
    lockfile: lock.file,
    format: lock.format,
    packages: packages.length,
    advisories: {
      source: advisories.source,
      fetchedAt: advisories.cache?.fetchedAt,
      reason: advisories.reason,
      unchecked: advisories.cache
        ? [...wanted]
            .filter(([name, versions]) =>
              [...versions].some((v) => !advisories.cache?.queried[name]?.includes(v)),
            )
            .map(([name]) => name)
        : [],
      findings,
    },
    lockProblems: problems,
    otherSources: others,
    installScripts,
    young,
    unknownFacts: [...unknown].sort(),
    ignores: { expired, unused: ignores.filter((ignore) => !used.has(ignore)) },
    failLevel: options.failLevel,
    exitCode: failed1 ? 1 : advisories.source === 'unavailable' ? 3 : 0,
  }
}

async function loadAdvisories(
  queried: Record<string, string[]>,
  options: AuditOptions,
): Promise<{ source: AuditReport['advisories']['source']; cache?: AdvisoryCache; reason?: string }> {
  try {
    if (options.offline)
      return {
        source: 'cache',
        cache: cachedAdvisories(options.advisoryFile ?? advisoryFile(options.cacheDir)),
      }
    return { source: 'registry', cache: await fetchAdvisories(queried, options) }
  } catch (error) {
    if (!isShipshapeError(error)) throw error
    return { source: 'unavailable', reason: error.message }
  }
}

const ghsaOf = (url: string) => /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/.exec(url)?.[0]

/** Each advisory whose range holds a locked version, once per (advisory, package version), on its shortest path. */
function match(
  packages: readonly LockedPackage[],
  cache: AdvisoryCache,
  facts: Map<string, PackageFacts>,
  ignores: readonly Ignore[],
): Finding[] {
  const findings: Finding[] = []
  for (const pkg of packages) {
    for (const advisory of cache.advisories[pkg.name] ?? []) {
      const range = advisory.vulnerable_versions
      if (!semver.satisfies(pkg.version, range, { includePrerelease: true, loose: true })) continue
      const ghsa = ghsaOf(advisory.url)
      const id = String(advisory.id)
      const ignored = ignoreFor(ignores, ghsa ? [id, ghsa] : [id], pkg.path)
      findings.push({
        id,
        ghsa,
        name: pkg.name,
        version: pkg.version,
        severity: severityOrder.includes(advisory.severity) ? advisory.severity : 'high',
        title: advisory.title,
        url: advisory.url,
        vulnerable: range,
        fixed: fixedVersion(pkg.version, range, facts.get(pkg.name)),
        path: pkg.path,
        dev: pkg.dev,
        ...(ignored ? { ignored } : {}),
      })
    }
  }
  return findings.sort(
    (a, b) =>
      severityOrder.indexOf(b.severity) - severityOrder.indexOf(a.severity) ||
      a.name.localeCompare(b.name) ||
      showPath(a.path).localeCompare(showPath(b.path)),
  )
}

function fixedVersion(version: string, range: string, facts: PackageFacts | undefined): string | undefined {
  const later = (facts?.versions ?? []).filter(
    (candidate) => semver.valid(candidate) && !semver.prerelease(candidate) && semver.gt(candidate, version),
  )
  return later.sort(semver.compare).find((candidate) => !semver.satisfies(candidate, range, { loose: true }))
}
