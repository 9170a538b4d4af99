/**
 * shipshape/db: one `pg` pool per worker, for whatever query layer the app uses (raw pg,
 * Drizzle's node-postgres driver, Kysely's PostgresDialect, Prisma's @prisma/adapter-pg).
 * A real Postgres with DATABASE_URL; otherwise the embedded PGlite database, which a database
 * process beside the workers serves on a Unix socket, reached by the same pool. See docs/db.md.
 */
import type pg from 'pg'
import { ShipshapeError } from '../errors/index.js'
import { workerState } from '../http/index.js'

export { type Database, openDatabase } from './_pool.js'
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
