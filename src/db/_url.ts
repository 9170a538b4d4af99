/**
 * Database URLs: their validation, and the one way they are shown (password masked). Kept apart
 * from the settings so workers, which never load zod, use it too.
 */

/** What a worker's pool and the database process are built from (plain values: sent as JSON). */
export interface DatabaseOptions {
  /** A real server's URL (a CA file folded in as sslrootcert), or '' for the embedded database. */
  url: string
  /** Without a URL: whether the embedded database runs (else the app has no database). */
  embedded: boolean
  /** The embedded database's data directory (absolute). */
  dataDir: string
  /** The directory of the embedded database's socket (`.s.PGSQL.5432` in it, as psql expects). */
  socketDir: string
  poolSize: number
  connectTimeoutMs: number
  /** 0: none. */
  statementTimeoutMs: number
  /** 0: none. */
  idleInTransactionMs: number
  /** 0: forever. */
  maxLifetimeMs: number
  idleTimeoutMs: number
  busyTimeoutMs: number
  /** How many instances run the app (for the deploy checks). */
  instances: number
  /** The app's migration command, '' for none. */
  migrate: string
  migrateOnServe: boolean
}

/** The embedded database's socket file in its directory: Postgres's own name, so `psql -h <dir>` finds it. */
export const socketName = '.s.PGSQL.5432'

/** Why `url` is not a usable Postgres URL, or undefined when it is. */
export function urlProblem(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'does not parse as a URL'
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return `has the scheme ${parsed.protocol} (expected postgresql:)`
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) return 'names no host'
  const sslmode = parsed.searchParams.get('sslmode')
  const modes = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify']
  if (sslmode !== null && !modes.includes(sslmode))
    return `has sslmode=${sslmode} (expected one of ${modes.join(', ')})`
  return undefined
}

/** The URL with its password replaced by ****, also when it does not parse. */
export function maskedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '****'
    return parsed.href
  } catch {
    // user:password@ up to the last @ before the host; anything else unparsable is shown as is.
    return url.replace(/\/\/([^/@:]*):[^/]*@/, '//$1:****@')
  }
}

/** Where a pool connects, for logs: host and port, or the socket directory; never credentials. */
export function describeTarget(options: Pick<DatabaseOptions, 'url' | 'socketDir'>): string {
  if (options.url === '') return `the embedded database (socket in ${options.socketDir})`
  const parsed = new URL(options.url)
  const socket = parsed.searchParams.get('host')
  const database = decodeURIComponent(parsed.pathname.slice(1))
  const where =
    parsed.hostname === '' && socket ? `socket ${socket}` : `${parsed.hostname}:${parsed.port || 5432}`
  return database ? `${where}, database ${database}` : where
}
