/**
 * shipshape/db: one `pg` pool per worker, for whatever query layer the app uses (raw pg,
 * Drizzle's node-postgres driver, Kysely's PostgresDialect, Prisma's @prisma/adapter-pg).
 * A real Postgres with DATABASE_URL; otherwise the embedded PGlite database, which a database
 * process beside the workers serves on a Unix socket, reached by the same pool. See docs/db.md.
 *
 * The APM: every query through the worker's instrumented pool is counted against its request
 * (`queryStats()`), N+1 loops and slow queries are reported with their call site, slow SELECTs
 * are EXPLAINed for index hints, and per-route figures go to the database every minute. Tests
 * guard against N+1 loops with `expectQueries()`. See docs/db-apm.md.
 */
import type pg from 'pg'
import { ShipshapeError } from '../errors/index.js'
import { getContext, workerState } from '../http/index.js'
import type { RequestContext } from '../types.js'
import type { QueryStats } from './_apm.js'

export { type Apm, type ApmOptions, instrumentPool, type NPlusOne, type QueryStats } from './_apm.js'
export { type ExpectedQueries, type ExpectQueriesOptions, expectQueries } from './_expect.js'
export { fingerprint } from './_fingerprint.js'
export { type Database, openDatabase } from './_pool.js'
export { type RouteFigures, readRoutes, startRouteRollup } from './_rollup.js'
export type { RouteStats } from './_routes.js'
export { schemaOnce } from './_schema.js'
export { type RouteThresholds, routeThresholdsOf, type Threshold } from './_thresholds.js'
export { type DatabaseOptions, describeTarget, maskedUrl } from './_url.js'

/**
 * The worker's pool: the same one for every request and for app code outside a request (a
 * timer, a queue consumer) in a `shipshape serve` worker. Throws SHIPSHAPE_E_DB_NO_POOL
 * elsewhere (a script, a test): there, make one with openDatabase().
 */
export function pool(): pg.Pool {
  const db = workerState()?.db
  if (db === undefined) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_DB_NO_POOL',
      'pool() was called outside a `shipshape serve` worker, or in one without a database (no DATABASE_URL, --db-embedded false)',
    )
  }
  return db.pool
}

/**
 * What the current request (or `ctx`) has done with the database so far: query count, database
 * and pool-wait milliseconds, the slowest query. Undefined outside a request or without the APM.
 */
export function queryStats(ctx: RequestContext | undefined = getContext()): QueryStats | undefined {
  return ctx === undefined ? undefined : ctx.worker.apm?.statsOf(ctx)
}
