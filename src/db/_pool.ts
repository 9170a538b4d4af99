/**
 * The one place a worker's `pg` pool is made (openDatabase): with the settings' limits instead
 * of pg's "wait forever" defaults, errors that mean "the database cannot be reached" turned into
 * SHIPSHAPE_E_DB_UNAVAILABLE (503), and a health watch that `/readyz` reads. The APM wraps the
 * pool made here.
 */
import pg from 'pg'
import { ShipshapeError } from '../errors/index.js'
import type { Logger } from '../observe/index.js'
import { type DatabaseOptions, describeTarget } from './_url.js'

/** A worker's database: its pool, and why it is not usable now (undefined when it is). */
export interface Database {
  readonly pool: pg.Pool
  /** Why the pool cannot reach the database now, for `/readyz`; undefined when it can. */
  notReady(): string | undefined
  /** Stops the health watch and closes every connection. */
  close(): Promise<void>
}

declare module '../types.js' {
  interface WorkerState {
    /** db: the worker's pool (`pool()` reads it), built once when the worker starts. */
    readonly db?: Database
  }
}

/** While the database is unreachable, it is tried this often (each try bounded by the connect timeout). */
const probeEveryMs = 1000

/** pg's and Node's codes for "no connection to be had", as opposed to an error in a statement. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections
])

/** The catalogue error a pool error stands for, or the error itself when it is a statement's own. */
function asCatalogueError(error: unknown, target: string): unknown {
  if (!(error instanceof Error)) return error
  const code = (error as { code?: string }).code
  if (code === '55P03' && error.message.startsWith('SHIPSHAPE_E_DB_BUSY')) {
    return new ShipshapeError('SHIPSHAPE_E_DB_BUSY', error.message.replace(/^SHIPSHAPE_E_DB_BUSY: /, ''), {
      cause: error,
    })
  }
  const lost =
    (code !== undefined && unreachableCodes.has(code)) ||
    /timeout exceeded when trying to connect|Connection terminated|connection timeout/i.test(error.message)
  return lost
    ? new ShipshapeError('SHIPSHAPE_E_DB_UNAVAILABLE', `${target}: ${error.message}`, { cause: error })
    : error
}

/** The pool's settings: a real server's URL, or the embedded database's socket. */
function poolConfig(options: DatabaseOptions): pg.PoolConfig {
  const embedded = options.url === ''
  return {
    connectionString: embedded ? `postgresql://postgres@/postgres?host=${options.socketDir}` : options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    ...(options.maxLifetimeMs > 0 ? { maxLifetimeSeconds: Math.ceil(options.maxLifetimeMs / 1000) } : {}),
    // The embedded database's front enforces both itself: PGlite cannot.
    ...(!embedded && options.statementTimeoutMs > 0 ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(!embedded && options.idleInTransactionMs > 0
      ? { idle_in_transaction_session_timeout: options.idleInTransactionMs }
      : {}),
    application_name: 'shipshape',
  }
}

/**
 * Makes the pool and starts watching it. Nothing connects before the first query or probe, so a
 * worker starts (and serves, with `/readyz` at 503) while the database is down.
 */
export function openDatabase(options: DatabaseOptions, logger?: Logger): Database {
  const pool = new pg.Pool(poolConfig(options))
  const target = describeTarget(options)
  let failure: string | undefined = 'not connected yet'
  let probing: NodeJS.Timeout | undefined
  let closed = false

  const failed = (error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error)
    if (failure === undefined || failure === 'not connected yet') {
      logger?.error({ database: target, error: reason }, `database unreachable: ${target}: ${reason}`)
    }
    failure = reason
    if (probing === undefined && !closed) probing = setTimeout(probe, probeEveryMs).unref()
  }
  const recovered = () => {
    if (failure !== undefined && failure !== 'not connected yet') {
      logger?.info({ database: target }, `database reachable again: ${target}`)
    }
    failure = undefined
  }
  function probe(): void {
    probing = undefined
    if (closed) return
    pool.query('SELECT 1').then(recovered, failed)
  }

  const connect = pool.connect.bind(pool) as (
    callback: (error: Error | undefined, client: pg.PoolClient, done: (release?: unknown) => void) => void,
  ) => void
  // pg-pool's query() calls this.connect(callback): both paths get the same translation.
  pool.connect = ((callback?: (error: unknown, client?: pg.PoolClient, done?: unknown) => void) => {
    const settle = (resolve: (client: pg.PoolClient) => void, reject: (error: unknown) => void) =>
      connect((error, client, done) => {
        if (error) {
          const translated = asCatalogueError(error, target)
          if (translated !== error) failed(error)
          if (callback) return callback(translated, undefined, done)
          return reject(translated)
        }
        if (callback) return callback(undefined, client, done)
        resolve(client)
      })
    if (callback)
      return void settle(
        () => {},
        () => {},
      )
    return new Promise<pg.PoolClient>(settle)
  }) as typeof pool.connect
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>
  pool.query = ((...args: unknown[]) => {
    if (typeof args[args.length - 1] === 'function') return query(...args)
    return query(...args).catch((error: unknown) => {
      throw asCatalogueError(error, target)
    })
  }) as typeof pool.query
  // An idle connection that breaks (the server restarted) must not crash the worker: pg-pool
  // drops it; the health watch notes it.
  pool.on('error', failed)
  pool.on('connect', recovered)
  probe()

  return {
    pool,
    // The log names the host; /readyz, which anyone may ask, does not.
    notReady: () => (failure === undefined ? undefined : 'database unreachable'),
    async close() {
      closed = true
      clearTimeout(probing)
      await pool.end()
    },
  }
}
