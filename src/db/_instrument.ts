/**
 * Instruments a `pg` pool: every query through `pool.query` or through a client from
 * `pool.connect()` (what Drizzle, Kysely, Knex and Prisma's pg adapter do) is timed and counted
 * against the scope of the code that asked for it, and the time spent waiting for a connection
 * too. The pool and its clients keep their own API: only their `query` and `connect` are wrapped.
 */
import type pg from 'pg'
import { addBreadcrumb } from '../observe/index.js'
import { connections, countQuery, countWait } from './_apm-metrics.js'
import { type CapturedStack, captureStack } from './_callsite.js'
import type { Fingerprint, FingerprintCache } from './_fingerprint.js'
import type { Repeated, Scope } from './_scope.js'

/** What the instrumentation asks of the APM that owns it. */
export interface Accounting {
  readonly fingerprints: FingerprintCache
  /** The scope of the code running now (a request, an expectQueries block), if any. */
  currentScope(): Scope | undefined
  /** A query's call site is captured on its run number `suspectAt` in a scope, the N+1 count. */
  readonly suspectAt: number
  /** Fingerprints already seen slow get their call site captured on every run. */
  isKnownSlow(fingerprint: Fingerprint): boolean
  /** Queries at least this long are handed to `slow` (the others cost no allocation). */
  readonly slowQueryMs: number
  slow(query: FinishedQuery): void
}

export interface FinishedQuery {
  readonly fingerprint: Fingerprint
  readonly sql: string
  readonly values: unknown
  readonly ms: number
  readonly failed: boolean
  readonly scope: Scope | undefined
  readonly stack: CapturedStack | undefined
}

/** Runs SQL on the pool without being counted: the APM's own writes and EXPLAINs. */
export type InternalQuery = (run: (query: RawQuery) => Promise<unknown>) => Promise<void>
type RawQuery = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  values?: unknown[],
) => Promise<pg.QueryResult<R>>

const checkout = Symbol('shipshape.db.checkout')
const raw = Symbol('shipshape.db.rawQuery')

interface Checkout {
  scope: Scope | undefined
  /** The call site pool.query captured for the one query it runs on this client. */
  stack: CapturedStack | undefined
}

type Instrumented = pg.PoolClient & { [checkout]?: Checkout; [raw]?: pg.PoolClient['query'] }
type Callback = (error: Error | null, ...rest: unknown[]) => void

/** Wraps `pool` once; returns how to run uncounted queries on it. */
export function instrument(pool: pg.Pool, accounting: Accounting): InternalQuery {
  const originalConnect = pool.connect.bind(pool) as (cb?: Callback) => Promise<pg.PoolClient> | undefined
  const originalQuery = pool.query.bind(pool) as (...args: unknown[]) => unknown
  /** Set by pool.query for the synchronous call it makes to connect(), then cleared. */
  let handoff: Checkout | undefined

  pool.on('connect', (client) => {
    connections.open++
    wrapClient(client as Instrumented, accounting)
  })
  pool.on('remove', () => {
    connections.open--
  })
  pool.on('acquire', () => {
    connections.used++
  })
  pool.on('release', (_error, client) => {
    connections.used--
    // An idle connection belongs to no request: it must not keep the last one's scope alive.
    ;(client as Instrumented)[checkout] = undefined
  })

  function connect(cb?: Callback): Promise<pg.PoolClient> | undefined {
    const given = handoff
    handoff = undefined
    const owner: Checkout = given ?? { scope: accounting.currentScope(), stack: undefined }
    const startedAt = performance.now()
    connections.pending++
    const delivered = (client: unknown) => {
      connections.pending--
      const ms = performance.now() - startedAt
      countWait(ms)
      if (owner.scope) owner.scope.waitMs += ms
      if (client) (client as Instrumented)[checkout] = owner
    }
    if (cb) {
      return originalConnect((error, client, ...rest) => {
        delivered(client)
        cb(error, client, ...rest)
      })
    }
    return (originalConnect() as Promise<pg.PoolClient>).then(
      (client) => {
        delivered(client)
        return client
      },
      (error: unknown) => {
        delivered(undefined)
        throw error
      },
    )
  }

  function query(...args: unknown[]): unknown {
    const scope = accounting.currentScope()
    const sql = sqlOf(args[0])
    let stack: CapturedStack | undefined
    if (sql !== undefined && wantsStack(scope, accounting.fingerprints.of(sql), accounting))
      stack = captureStack()
    handoff = { scope, stack }
    try {
      return originalQuery(...args)
    } finally {
      handoff = undefined
    }
  }

  pool.connect = connect as typeof pool.connect
  pool.query = query as typeof pool.query

  return async (run) => {
    const client = (await originalConnect()) as Instrumented
    const rawQuery = (client[raw] ?? client.query).bind(client) as RawQuery
    try {
      await run(rawQuery)
    } finally {
      client.release()
    }
  }
}

function sqlOf(config: unknown): string | undefined {
  if (typeof config === 'string') return config
  const text = (config as { text?: unknown } | null)?.text
  return typeof text === 'string' ? text : undefined
}

/** Whether this run should carry its call site: the one making it an N+1 suspect, or a known slow query. */
function wantsStack(scope: Scope | undefined, fingerprint: Fingerprint, accounting: Accounting): boolean {
  if (scope === undefined) return accounting.isKnownSlow(fingerprint)
  const entry = scope.repeated.get(fingerprint.id)
  const run = (entry?.started ?? 0) + 1
  return (run === accounting.suspectAt && entry?.stack === undefined) || accounting.isKnownSlow(fingerprint)
}

function wrapClient(client: Instrumented, accounting: Accounting): void {
  const original = client.query as (...args: unknown[]) => unknown
  client[raw] = original as pg.PoolClient['query']
  client.query = function instrumentedQuery(this: Instrumented, ...args: unknown[]): unknown {
    const sql = sqlOf(args[0])
    if (sql === undefined) return original.apply(this, args)
    const fingerprint = accounting.fingerprints.of(sql)
    const owner = this[checkout]
    const scope = owner?.scope
    let stack = owner?.stack
    if (owner) owner.stack = undefined
    let entry: Repeated | undefined
    if (stack === undefined && wantsStack(scope, fingerprint, accounting)) stack = captureStack()
    if (scope) {
      entry = scope.start(fingerprint)
      if (stack && entry.started === accounting.suspectAt) entry.stack = stack
    }
    const values = Array.isArray(args[1]) ? args[1] : (args[0] as { values?: unknown }).values
    const startedAt = performance.now()
    let done = false
    const finish = (failed: boolean) => {
      if (done) return
      done = true
      const ms = performance.now() - startedAt
      countQuery(fingerprint.operation, ms, failed)
      if (entry) scope?.finish(entry, ms)
      // The query's shape, never its values: an error report of this request shows what it ran.
      // Its scope's request, not the async context here: pg may call back from the request
      // that released the connection.
      if (scope?.ctx)
        addBreadcrumb(
          scope.ctx,
          'query',
          `${fingerprint.text} (${ms.toFixed(1)} ms)`,
          failed ? 'error' : 'info',
        )
      if (ms >= accounting.slowQueryMs)
        accounting.slow({ fingerprint, sql, values, ms, failed, scope, stack })
    }
    const last = args.length - 1
    if (last > 0 && typeof args[last] === 'function') {
      const callback = args[last] as Callback
      args[last] = (error: Error | null, ...rest: unknown[]) => {
        finish(error != null)
        callback(error, ...rest)
      }
      return original.apply(this, args)
    }
    const result = original.apply(this, args) as
      | (Promise<unknown> & { on?: undefined })
      | { on(event: string, fn: () => void): void; then?: undefined }
    if (typeof result?.then === 'function') {
      result.then(
        () => finish(false),
        () => finish(true),
      )
    } else if (typeof result?.on === 'function') {
      // A submittable (pg-cursor, pg-query-stream): done when it ends or fails.
      result.on('end', () => finish(false))
      result.on('error', () => finish(true))
    }
    return result
  } as typeof client.query
}
