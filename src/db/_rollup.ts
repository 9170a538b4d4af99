/**
 * The hourly rollup of the APM's per-route windows, and the one read of route figures over a
 * time range that uses it. Each worker writes a row per route per minute (shipshape_apm_routes);
 * seven days of 50 routes is half a million rows, which the console's 7-day view cannot
 * aggregate within its budget. The primary rolls each complete hour into one row per route
 * (shipshape_apm_route_hours): sums of requests, errors, request and database time, queries and
 * N+1 loops, and the sum of the windows' latency sketches' buckets. Bucket counts add, so the
 * percentiles of an hour, or of seven days of hours, are exactly those of one sketch fed every
 * request (within the sketch's 5%), not an average of each minute's percentiles.
 *
 * Reading (readRoutes): the whole hours the rollup holds come from it, and the rest of the range
 * (the current hour, an hour not rolled up yet, the part of the first hour after `since`) from the
 * raw windows, so the figures are the same as aggregating the raw windows alone.
 *
 * Two instances on one database: each hour is rolled in a short transaction of its own holding an
 * advisory lock (another instance at it makes this one skip its turn), and is an upsert computed
 * from the raw windows, so a repeat writes the same row. Short transactions matter on the
 * embedded database, where one backend serves every worker.
 */
import type pg from 'pg'
import type { Logger } from '../observe/index.js'
import { ApmStore, hoursTable, routesTable, rollupMarkTable as stateTable } from './_apm-store.js'
import { openDatabase } from './_pool.js'
import { Sketch } from './_sketch.js'
import type { DatabaseOptions } from './_url.js'

const hourMs = 3_600_000
/** An hour is rolled this long after it ends: a window ending at :59 is written a moment later. */
const graceMs = 5 * 60_000
/** The primary's turn comes this often; the reads take what is not rolled yet from the raw windows. */
const everyMs = 5 * 60_000
/** pg_try_advisory_xact_lock's key: any constant the other shipshape locks do not use. */
const lockKey = 7_265_433

/** A raw window's figures as the sums the rollup keeps (the window stores means and shares). */
const rawSums = `requests, error_rate * requests AS errors, mean_ms * requests AS sum_ms,
  mean_ms * db_share * requests AS db_ms, mean_queries * requests AS queries, n_plus_ones, latency_index, latency_count`

/** The rows of `kept`, summed by `keys`, their buckets added index by index. */
const aggregate = (keys: string) => `
  totals AS (SELECT ${keys}, sum(requests) AS requests, sum(errors) AS errors, sum(sum_ms) AS sum_ms,
    sum(db_ms) AS db_ms, sum(queries) AS queries, sum(n_plus_ones) AS n_plus_ones FROM kept GROUP BY ${keys}),
  cells AS (SELECT ${keys}, b.i, sum(b.c)::bigint AS c FROM kept, unnest(latency_index, latency_count) AS b(i, c)
    GROUP BY ${keys}, b.i),
  hist AS (SELECT ${keys}, array_agg(i ORDER BY i) AS latency_index, array_agg(c ORDER BY i) AS latency_count
    FROM cells GROUP BY ${keys})`

const rollHour = `WITH kept AS (SELECT method, route, ${rawSums} FROM ${routesTable}
    WHERE window_end >= $1 AND window_end < $2 AND requests > 0),
  ${aggregate('method, route')}
  INSERT INTO ${hoursTable} SELECT $1, method, route, requests, errors, sum_ms, db_ms, queries, n_plus_ones,
    latency_index, latency_count FROM totals LEFT JOIN hist USING (method, route)
  ON CONFLICT (hour, method, route) DO UPDATE SET requests = EXCLUDED.requests, errors = EXCLUDED.errors,
    sum_ms = EXCLUDED.sum_ms, db_ms = EXCLUDED.db_ms, queries = EXCLUDED.queries,
    n_plus_ones = EXCLUDED.n_plus_ones, latency_index = EXCLUDED.latency_index, latency_count = EXCLUDED.latency_count`

const floorHour = (ms: number) => Math.floor(ms / hourMs) * hourMs

/**
 * The rollup of `pool`'s database: each call rolls every complete hour not rolled yet, oldest
 * first, one transaction each, then deletes the hours older than `retentionDays`, and resolves to
 * the hours rolled (0 when another instance holds the lock). The tables are made on the first call.
 */
export function routeRollup(pool: pg.Pool): (now: number, retentionDays: number) => Promise<number> {
  const store = new ApmStore(async (run) => {
    await run((sql, values) => pool.query(sql, values))
  })
  return async function rollUpHours(now, retentionDays) {
    await store.migrate()
    return rollPending(pool, now, retentionDays)
  }
}

async function rollPending(pool: pg.Pool, now: number, retentionDays: number): Promise<number> {
  const complete = floorHour(now - graceMs)
  let rolled = 0
  for (;;) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const lock = await client.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [lockKey])
      const done = lock.rows[0]?.ok !== true || !(await rollNext(client, complete))
      await client.query('COMMIT')
      if (done) break
      rolled++
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }
  await pool.query(`DELETE FROM ${hoursTable} WHERE hour < now() - make_interval(days => $1)`, [
    retentionDays,
  ])
  return rolled
}

/** Rolls the oldest hour with windows past the mark, or moves the mark to `complete` if none; false when up to date. */
async function rollNext(client: pg.PoolClient, complete: number): Promise<boolean> {
  const mark = (await client.query(`SELECT rolled_until FROM ${stateTable}`)).rows[0]?.rolled_until as
    | Date
    | undefined
  if (mark !== undefined && mark.getTime() >= complete) return false
  const { rows } = await client.query(
    `SELECT min(window_end) AS first FROM ${routesTable} WHERE window_end >= $1 AND window_end < $2`,
    [mark ?? new Date(0), new Date(complete)],
  )
  const first = rows[0]?.first as Date | null
  const hour = first === null ? undefined : floorHour(first.getTime())
  if (hour !== undefined) await client.query(rollHour, [new Date(hour), new Date(hour + hourMs)])
  await client.query(
    `INSERT INTO ${stateTable} (rolled_until) VALUES ($1) ON CONFLICT (id) DO UPDATE SET rolled_until = EXCLUDED.rolled_until`,
    [new Date(hour === undefined ? complete : hour + hourMs)],
  )
  return hour !== undefined
}

/**
 * The primary's periodic rollup: at start, then every 5 minutes. A turn still running when the
 * next is due is skipped; a failure is a log line and the next turn tries again. Statements wait
 * at most 5 s each (one hour of 50 routes is 3,000 windows, a few milliseconds).
 */
export function startRouteRollup(
  database: DatabaseOptions,
  retentionDays: number,
  logger: Logger,
): { stop(): Promise<void> } {
  const db = openDatabase({ ...database, poolSize: 1, statementTimeoutMs: 5000 }, logger)
  const rollUpHours = routeRollup(db.pool)
  let running: Promise<void> | undefined
  const turn = () => {
    running ??= rollUpHours(Date.now(), retentionDays)
      .then(() => {})
      .catch((error: unknown) => logger.warn({ err: error }, 'apm: the hourly rollup failed'))
      .finally(() => {
        running = undefined
      })
  }
  turn()
  const timer = setInterval(turn, everyMs).unref()
  return {
    async stop() {
      clearInterval(timer)
      await running
      await db.close().catch(() => {})
    },
  }
}

/** One route's (or every route's, `byRoute` false) figures over a range, or over one bucket of it. */
export interface RouteFigures {
  /** The bucket's start (ms since the epoch); 0 without buckets. */
  at: number
  method: string
  route: string
  requests: number
  errors: number
  sumMs: number
  dbMs: number
  queries: number
  nPlusOnes: number
  /** The merged sketch of every window in range: its quantiles are the range's. */
  latency: Sketch
}

export interface RouteRange {
  since: number
  /** Default: no upper bound. */
  until?: number
  /** Figures per bucket of this many milliseconds (aligned on the epoch); default one for the range. */
  bucketMs?: number
  /** Each route apart (true), or every route together. */
  byRoute: boolean
  /** One route only. */
  filter?: { method: string; route: string } | undefined
  /** Routes under this prefix are left out (the console's own). */
  excludePrefix: string
}

/** What reads rows: the console's `rowsOf`, which reads a table not created yet as empty. */
type Rows = (sql: string, values: unknown[]) => Promise<Record<string, unknown>[]>

/**
 * Route figures over a range: whole hours from the rollup up to its mark, the rest from the raw
 * windows (`window_end` in (since, until]); the same figures as the raw windows alone would give.
 */
export async function readRoutes(rows: Rows, range: RouteRange): Promise<RouteFigures[]> {
  const { since, until, bucketMs } = range
  const first = floorHour(since) + hourMs
  const [state] = await rows(`SELECT rolled_until FROM ${stateTable}`, [])
  const mark = state === undefined ? Number.NEGATIVE_INFINITY : (state.rolled_until as Date).getTime()
  const hourly = bucketMs === undefined || bucketMs % hourMs === 0
  const last = hourly ? Math.max(first, Math.min(floorHour(until ?? Date.now()), mark)) : first
  const keys = range.byRoute ? 'bucket, method, route' : 'bucket'
  const bucket = 'coalesce(floor(extract(epoch FROM at) * 1000 / $6::float8) * $6::float8, 0)'
  const found = await rows(
    `WITH parts AS (
      ${last > first ? `SELECT hour AS at, method, route, requests, errors, sum_ms, db_ms, queries, n_plus_ones, latency_index, latency_count FROM ${hoursTable} WHERE hour >= $2 AND hour < $3 UNION ALL` : ''}
      SELECT window_end AS at, method, route, ${rawSums} FROM ${routesTable} WHERE window_end > $1 AND window_end < $2 AND requests > 0
      UNION ALL SELECT window_end, method, route, ${rawSums} FROM ${routesTable}
        WHERE window_end >= $3 AND window_end <= $4 AND requests > 0
    ), kept AS (
      SELECT ${bucket} AS bucket, * FROM parts
      WHERE left(route, length($5)) <> $5 AND ($7::text IS NULL OR (method = $7 AND route = $8))
    ), ${aggregate(keys)}
    SELECT ${keys}, requests::float8, errors::float8, sum_ms::float8, db_ms::float8, queries::float8,
      n_plus_ones::float8, hist.latency_index, hist.latency_count::float8[]
    FROM totals LEFT JOIN hist USING (${keys}) ORDER BY bucket`,
    [
      new Date(since),
      new Date(first),
      new Date(last),
      until === undefined ? 'infinity' : new Date(until),
      range.excludePrefix,
      bucketMs ?? null,
      range.filter?.method ?? null,
      range.filter?.route ?? null,
    ],
  )
  return found.map((row) => ({
    at: Number(row.bucket),
    method: (row.method as string | undefined) ?? '',
    route: (row.route as string | undefined) ?? '',
    requests: row.requests as number,
    errors: row.errors as number,
    sumMs: row.sum_ms as number,
    dbMs: row.db_ms as number,
    queries: row.queries as number,
    nPlusOnes: row.n_plus_ones as number,
    latency: Sketch.of(
      (row.latency_index as number[] | null) ?? [],
      (row.latency_count as number[] | null) ?? [],
    ),
  }))
}
