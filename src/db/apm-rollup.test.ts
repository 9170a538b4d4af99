/**
 * The hourly rollup of the per-route windows, on the real Postgres and the embedded database:
 * the console's figures read through it equal those of the raw windows alone for the same data
 * (and the percentiles equal those of one sketch fed every request); rolling twice, or from two
 * instances at once, counts nothing twice. Then two real `shipshape serve` on one Postgres: their
 * primaries roll the hours up once, and the Endpoints page shows the rolled figures.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, ready, startServe } from '../_test/cli.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { admin } from '../auth/_test/admin-cli.js'
import { routeSummaries, trafficSeries } from '../console/_data.js'
import { password, signedIn } from '../console/_test/sign-in.js'
import { ApmStore } from './_apm-store.js'
import { openDatabase } from './_pool.js'
import { routeRollup } from './_rollup.js'
import { type RouteSample, RouteTable } from './_routes.js'
import { type Target, targets } from './_test/targets.js'

const hourMs = 3_600_000
/** The hour the test's data ends in; windows lie in the three before it and in it. */
const ref = Math.floor(Date.now() / hourMs) * hourMs
const since = ref - 2.5 * hourMs
const until = ref + 30 * 60_000
const routes = ['/api/items', '/reports/daily', '/_shipshape/errors']

/** One window's requests: latencies that differ from hour to hour, so that averaging each window's p95 would be wrong. */
function samples(route: string, hour: number, window: number): RouteSample[] {
  return Array.from({ length: 20 + ((hour * 7 + window) % 13) }, (_, i) => ({
    method: 'GET',
    route,
    status: i % 17 === 0 ? 503 : 200,
    ms: (1 + ((i * 37 + window * 11) % 97)) * (hour + 1) * (route.startsWith('/reports') ? 20 : 1),
    queries: i % 4,
    dbMs: (i % 5) * 0.7,
    nPlusOnes: i % 9 === 0 ? 1 : 0,
  }))
}

/** Writes six windows per hour (and two in the current one) through the APM's store; returns every request in range. */
async function seed(pool: pg.Pool): Promise<RouteSample[]> {
  const store = new ApmStore((run) => run((sql, values) => pool.query(sql, values)) as never)
  const inRange: RouteSample[] = []
  for (let hour = 0; hour < 4; hour++) {
    for (let window = 0; window < (hour === 3 ? 2 : 6); window++) {
      const end = ref - (3 - hour) * hourMs + window * 10 * 60_000 + 5_000
      const table = new RouteTable(100)
      for (const route of routes) for (const sample of samples(route, hour, window)) table.record(sample)
      const { stats } = table.rotate(end)
      await store.writeRoutes(new Date(end - 60_000), new Date(end), stats, 14)
      if (end > since && end <= until)
        for (const route of routes.slice(0, 2)) inRange.push(...samples(route, hour, window))
    }
  }
  return inRange
}

function tolerance(a: number, b: number): void {
  expect(Math.abs(a - b)).toBeLessThan(1e-9 * Math.max(1, Math.abs(b)))
}

function expectSame(
  read: Awaited<ReturnType<typeof routeSummaries>>,
  raw: Awaited<ReturnType<typeof routeSummaries>>,
): void {
  const key = (list: typeof raw) => [...list].sort((a, b) => a.route.localeCompare(b.route))
  const [a, b] = [key(read), key(raw)]
  expect(a.map((r) => [r.route, r.requests, r.p50Ms, r.p95Ms, r.p99Ms, r.nPlusOnes])).toEqual(
    b.map((r) => [r.route, r.requests, r.p50Ms, r.p95Ms, r.p99Ms, r.nPlusOnes]),
  )
  a.forEach((r, i) => {
    const other = b[i] as (typeof b)[number]
    for (const field of ['errorRate', 'dbMs', 'queries', 'throughput'] as const)
      tolerance(r[field], other[field])
  })
}

describe.each(targets)('the hourly rollup on %s', (_name, make) => {
  let target: Target
  let db: ReturnType<typeof openDatabase>

  beforeAll(async () => {
    target = await make()
    db = openDatabase(target.options)
  })
  afterAll(async () => {
    await db?.close()
    await target?.remove()
  })

  it('reads the same figures through the rollup as from the raw windows, and counts no hour twice', async () => {
    const requests = await seed(db.pool)
    // No rollup yet: every figure comes from the raw windows.
    const raw = await routeSummaries(db.pool, '/_shipshape', since, until)
    const rawSeries = await trafficSeries(db.pool, '/_shipshape', ref - 4 * hourMs, hourMs)
    // Their percentiles are those of one sketch fed every request in range.
    const truth = new RouteTable(100)
    for (const sample of requests) truth.record(sample)
    expect(raw.map((r) => [r.route, r.requests, r.p50Ms, r.p95Ms, r.p99Ms]).sort()).toEqual(
      truth
        .stats()
        .map((r) => [r.route, r.requests, r.p50Ms, r.p95Ms, r.p99Ms])
        .sort(),
    )

    // Two turns at once (two instances): three complete hours rolled, once.
    const turns = await Promise.all([
      routeRollup(db.pool)(ref + 10 * 60_000, 30),
      routeRollup(db.pool)(ref + 10 * 60_000, 30),
    ])
    expect(turns[0] + turns[1]).toBe(3)
    expect(await routeRollup(db.pool)(ref + 10 * 60_000, 30)).toBe(0)
    const { rows } = await db.pool.query(
      `SELECT hour, route, requests::int FROM shipshape_apm_route_hours ORDER BY hour, route`,
    )
    expect(rows).toHaveLength(9)
    const [{ rolled_until }] = (await db.pool.query('SELECT rolled_until FROM shipshape_apm_rollup')).rows
    expect((rolled_until as Date).getTime()).toBe(ref)

    // The hours from ref - 2 h come from the rollup now; the leading part and the current hour from raw windows.
    expectSame(await routeSummaries(db.pool, '/_shipshape', since, until), raw)
    const series = await trafficSeries(db.pool, '/_shipshape', ref - 4 * hourMs, hourMs)
    expect(series.map((p) => [p.at, p.requests, p.p95Ms])).toEqual(
      rawSeries.map((p) => [p.at, p.requests, p.p95Ms]),
    )
    expect(series.map((p) => p.at)).toEqual([0, 1, 2, 3].map((h) => ref - (3 - h) * hourMs))
    for (const [i, p] of series.entries()) {
      tolerance(p.errorRate, (rawSeries[i] as (typeof rawSeries)[number]).errorRate)
    }
    // One route's series too (the route page's).
    const filter = { method: 'GET', route: '/reports/daily' }
    const own = await trafficSeries(db.pool, '/_shipshape', ref - 4 * hourMs, hourMs, filter)
    expect(own.map((p) => p.requests)).toEqual(
      [0, 1, 2, 3].map((h) =>
        Array.from({ length: h === 3 ? 2 : 6 }, (_, w) => samples('/reports/daily', h, w).length).reduce(
          (x, y) => x + y,
        ),
      ),
    )
  })
})

describe('the rollup under two real `shipshape serve` on one Postgres', () => {
  let database: TestDatabase
  const servers: Running[] = []
  const app = new URL('../console/_test/app.ts', import.meta.url).pathname

  beforeAll(async () => {
    database = await createTestDatabase('rollup')
    const pool = new pg.Pool({ connectionString: database.url, max: 2 })
    try {
      await seed(pool)
    } finally {
      await pool.end()
    }
    const env = { DATABASE_URL: database.url }
    expect((await admin(['create', 'ops@example.com'], env, `${password}\n`)).status).toBe(0)
    servers.push(...(await Promise.all([0, 1].map(() => startServe([app, '--workers', '1'], env)))))
    await Promise.all(servers.map((server) => ready(server, 1)))
  })
  afterAll(async () => {
    for (const server of servers) await server.stop()
    await database?.drop()
  })

  it('rolls each complete hour once, and the Endpoints page reads it', async () => {
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      const mark = async () =>
        (await client.query('SELECT rolled_until FROM shipshape_apm_rollup').catch(() => ({ rows: [] })))
          .rows[0]?.rolled_until as Date | undefined
      const deadline = Date.now() + 20_000
      while (((await mark())?.getTime() ?? 0) < ref - (Date.now() - ref < 5 * 60_000 ? hourMs : 0)) {
        if (Date.now() > deadline) throw new Error('the primaries did not roll the hours up')
        await new Promise((wait) => setTimeout(wait, 100))
      }
      const rolled = await client.query(
        `SELECT route, sum(requests)::int AS requests, count(*)::int AS hours FROM shipshape_apm_route_hours GROUP BY route ORDER BY route`,
      )
      const raw = await client.query(
        `SELECT route, sum(requests)::int AS requests FROM shipshape_apm_routes
         WHERE window_end < (SELECT rolled_until FROM shipshape_apm_rollup) GROUP BY route ORDER BY route`,
      )
      expect(rolled.rows.map((r) => [r.route, r.requests])).toEqual(
        raw.rows.map((r) => [r.route, r.requests]),
      )
      const signed = await signedIn((servers[0] as Running).url, 'ops@example.com')
      const page = await signed.get('/_shipshape/endpoints?window=7d')
      expect(page.status).toBe(200)
      const reports = await routeSummaries(
        { query: (sql: string, values?: unknown[]) => client.query(sql, values) } as never,
        '/_shipshape',
        Date.now() - 7 * 24 * hourMs,
      )
      const daily = reports.find((r) => r.route === '/reports/daily')
      expect(page.body).toContain(`GET /reports/daily</a></td><td class="n">${daily?.requests}</td>`)
    } finally {
      await client.end()
    }
  })
})
