/**
 * What the npm registry knows about the locked packages: advisories, from the bulk endpoint
 * `npm audit` itself uses (POST <registry>/-/npm/v1/security/advisories/bulk, a gzipped
 * `{ name: [versions] }`), and each package's publication times, versions and install scripts,
 * from its packument. Both are cached in one directory: advisories per run (the file `--offline`
 * reads, which CI may restore or commit), packuments per package (a version's publication time
 * never changes, so a cached packument is fetched again only when a locked version is missing from it).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { ShipshapeError } from '../errors/index.js'

export const severityOrder = ['info', 'low', 'moderate', 'high', 'critical'] as const
export type AdvisorySeverity = (typeof severityOrder)[number]

/** One advisory as the bulk endpoint returns it. */
interface BulkAdvisory {
  id: number
  url: string
  title: string
  severity: AdvisorySeverity
  vulnerable_versions: string
  cwe?: string[]
  cvss?: { score: number; vectorString: string | null }
}

export interface AdvisoryCache {
  /** ISO time of the request. */
  fetchedAt: string
  registry: string
  /** What was asked: a package absent from it was not checked by this cache. */
  queried: Record<string, string[]>
  advisories: Record<string, BulkAdvisory[]>
}

/** The parts of a packument the audit reads. */
export interface PackageFacts {
  /** version → ISO publication time. */
  time: Record<string, string>
  versions: string[]
  /** Versions that run a preinstall, install or postinstall script (or build with node-gyp). */
  installScripts: string[]
}

export interface RegistryOptions {
  registry: string
  cacheDir: string
  timeoutMs: number
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`)

function unreachable(what: string, cause: unknown): ShipshapeError {
  const reason =
    cause instanceof Error ? (cause.name === 'TimeoutError' ? 'timed out' : cause.message) : String(cause)
  return new ShipshapeError('SHIPSHAPE_E_AUDIT_UNAVAILABLE', `${what}: ${reason}`)
}

export const advisoryFile = (cacheDir: string) => join(cacheDir, 'advisories.json')

/** Asks the registry for the advisories of these versions, and caches the answer for --offline. */
export async function fetchAdvisories(
  queried: Record<string, string[]>,
  { registry, cacheDir, timeoutMs }: RegistryOptions,
): Promise<AdvisoryCache> {
  const url = `${withSlash(registry)}-/npm/v1/security/advisories/bulk`
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', accept: 'application/json' },
      body: gzipSync(JSON.stringify(queried)),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    throw unreachable(`POST ${url}`, error)
  }
  if (!response.ok) throw unreachable(`POST ${url}`, `HTTP ${response.status} ${response.statusText}`)
  let advisories: Record<string, BulkAdvisory[]>
  try {
    advisories = (await response.json()) as Record<string, BulkAdvisory[]>
  } catch (error) {
    throw unreachable(`POST ${url} answered something other than JSON`, error)
  }
  const cache: AdvisoryCache = { fetchedAt: new Date().toISOString(), registry, queried, advisories }
  writeAtomically(advisoryFile(cacheDir), JSON.stringify(cache))
  return cache
}

/** The advisories cached by the last online run (or a file CI restored): SHIPSHAPE_E_AUDIT_OFFLINE without one. */
export function cachedAdvisories(file: string): AdvisoryCache {
  let cache: AdvisoryCache
  try {
    cache = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_AUDIT_OFFLINE',
      `no cached advisories at ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    )
  }
  if (!cache || typeof cache.advisories !== 'object' || typeof cache.queried !== 'object')
    throw new ShipshapeError(
      'SHIPSHAPE_E_AUDIT_OFFLINE',
      `${file} is not an advisory cache written by shipshape audit`,
    )
  return cache
}

const packumentFile = (cacheDir: string) => join(cacheDir, 'packuments.json')

function readPackuments(cacheDir: string): Record<string, PackageFacts> {
  try {
    return JSON.parse(readFileSync(packumentFile(cacheDir), 'utf8'))
  } catch {
    return {}
  }
}

/**
 * Facts for each name, fetching (8 at a time) only the packuments whose cached copy lacks a
 * locked version; offline, or when a fetch fails, what the cache has. A full packument can weigh
 * megabytes (every version's manifest): it is read once and only its facts are kept.
 */
export async function packageFacts(
  wanted: Map<string, Set<string>>,
  options: RegistryOptions & { offline: boolean },
): Promise<{ facts: Map<string, PackageFacts>; failed: string[] }> {
  const cached = readPackuments(options.cacheDir)
  const stale = [...wanted].filter(
    ([name, versions]) =>
      cached[name] === undefined || [...versions].some((v) => !(v in (cached[name]?.time ?? {}))),
  )
  const failed: string[] = []
  if (!options.offline && stale.length > 0) {
    let next = 0
    const worker = async () => {
      while (next < stale.length) {
        const [name] = stale[next++] as [string, Set<string>]
        try {
          cached[name] = await fetchFacts(name, options)
        } catch {
          failed.push(name)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(8, stale.length) }, worker))
    writeAtomically(packumentFile(options.cacheDir), JSON.stringify(cached))
  }
  const facts = new Map<string, PackageFacts>()
  for (const name of wanted.keys()) if (cached[name]) facts.set(name, cached[name])
  return { facts, failed }
}

async function fetchFacts(name: string, { registry, timeoutMs }: RegistryOptions): Promise<PackageFacts> {
  const url = `${withSlash(registry)}${name.replace('/', '%2f')}`
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  const packument = (await response.json()) as {
    time?: Record<string, string>
    versions?: Record<
      string,
      { scripts?: Record<string, string>; hasInstallScript?: boolean; gypfile?: boolean }
    >
  }
  const versions = packument.versions ?? {}
  const time: Record<string, string> = {}
  for (const [version, at] of Object.entries(packument.time ?? {}))
    if (version in versions) time[version] = at
  return {
    time,
    versions: Object.keys(versions),
    installScripts: Object.entries(versions)
      .filter(
        ([, manifest]) =>
          manifest.hasInstallScript === true ||
          manifest.gypfile === true ||
          ['preinstall', 'install', 'postinstall'].some((script) => manifest.scripts?.[script]),
      )
      .map(([version]) => version),
  }
}

/** Two runs at once (CI jobs sharing a cache) must never read half a file. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, text)
  renameSync(temporary, file)
}
