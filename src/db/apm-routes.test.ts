/**
 * Per-route figures (bounded, quantiles from the sketch, rolled up to the database with their
 * retention) and slow queries (logged with their call site, EXPLAINed in the background, once per
 * interval, SELECTs only, parameters never logged unless allowed) turning into index hints.
 */
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { promisify } from 'node:util'
import type pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../_test/cli.js'
import { get } from '../_test/client.js'
import { type LogLine, serve } from '../_test/pipeline.js'
import type { AppHandler } from '../types.js'
import { instrumentPool } from './_apm.js'
import { hintsTable, routesTable } from './_apm-store.js'
import { filterColumns } from './_hints.js'
import { otherRoute, RouteTable } from './_routes.js'
import { freshDatabase } from './_test/postgres.js'

let database: Awaited<ReturnType<typeof freshDatabase>>
let admin: pg.Pool

beforeAll(async () => {
  database = await freshDatabase()
  admin = database.pool()
  await admin.query(
    'CREATE TABLE big (id serial PRIMARY KEY, author_id integer NOT NULL, email text NOT NULL)',
  )
  await admin.query(
    "INSERT INTO big (author_id, email) SELECT i % 500, 'user' || i || '@example.com' FROM generate_series(1, 20000) i",
  )
  await admin.query('CREATE TABLE small (id serial PRIMARY KEY, name text)')
  await admin.query("INSERT INTO small (name) VALUES ('a'), ('b')")
  await admin.query('ANALYZE big')
  await admin.query('ANALYZE small')
})
afterAll(async () => {
  await database?.drop()
})

function capture() {
  const logs: LogLine[] = []
  return {
    logs,
    logger: pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
  }
}

describe('per-route figures', () => {
  it('keeps a bounded number of routes, the rest under (other)', () => {
    const table = new RouteTable(3)
    for (let i = 0; i < 10; i++)
      table.record({
        method: 'GET',
        route: `/r${'x'.repeat(i)}`,
        status: 200,
        ms: 1,
        queries: 0,
        dbMs: 0,
        nPlusOnes: 0,
      })
    expect(table.size).toBe(4)
    expect(table.stats().find((s) => s.route === otherRoute)?.requests).toBe(7)
  })

  it('reads quantiles within 5% from the sketch, whatever the number of samples', () => {
    const table = new RouteTable(10)
    for (let round = 0; round < 100; round++)
      for (let ms = 1; ms <= 100; ms++)
        table.record({
          method: 'GET',
          route: '/',
          status: ms > 98 ? 500 : 200,
          ms,
          queries: 2,
          dbMs: ms / 4,
          nPlusOnes: 0,
        })
    const [stats] = table.stats()
    expect(stats?.requests).toBe(10_000)
    expect(Math.abs((stats?.p50Ms ?? 0) - 50) / 50).toBeLessThan(0.05)
    expect(Math.abs((stats?.p95Ms ?? 0) - 95) / 95).toBeLessThan(0.05)
    expect(Math.abs((stats?.p99Ms ?? 0) - 99) / 99).toBeLessThan(0.05)
    expect(stats?.errorRate).toBeCloseTo(0.02, 5)
    expect(stats?.dbShare).toBeCloseTo(0.25, 5)
    expect(stats?.meanQueries).toBe(2)
  })

  it('writes each window to the database through the pool, and drops rows past the retention', async () => {
    const pool = database.pool()
    const { logger } = capture()
    const apm = instrumentPool(pool, { logger, rollupIntervalMs: 60_000, retentionDays: 14 })
    const app: AppHandler = async ({ req, res }) => {
      await pool.query('SELECT id FROM small WHERE id = $1', [1])
      res.statusCode = req.url?.endsWith('/13') ? 500 : 200
      res.end('ok')
    }
    const server = await serve(app, { accessLog: false }, [apm.middleware()])
    try {
      for (let id = 1; id <= 30; id++) await get(server.port, `/posts/${id}`)
      await apm.rollup()
      await admin.query(
        `INSERT INTO ${routesTable} SELECT now() - interval '31 days', now() - interval '30 days', host, pid, method, '/old', requests, throughput, error_rate, p50_ms, p95_ms, p99_ms, mean_ms, db_share, mean_queries, n_plus_ones FROM ${routesTable}`,
      )
      await apm.rollup()
      const { rows } = await admin.query(`SELECT * FROM ${routesTable} ORDER BY window_end`)
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({
        method: 'GET',
        route: '/posts/:id',
        requests: 30,
        pid: process.pid,
        mean_queries: 1,
        n_plus_ones: 0,
      })
      expect(rows[0].error_rate).toBeCloseTo(1 / 30, 5)
      expect(rows[0].p99_ms).toBeGreaterThanOrEqual(rows[0].p50_ms)
      expect(rows[0].db_share).toBeGreaterThan(0)
      expect(apm.routes.size).toBe(0)
    } finally {
      await server.close()
      await apm.close()
    }
  })
})

describe('slow queries and index hints', () => {
  const query = 'SELECT id FROM big WHERE author_id = $1 AND email = $2'

  it('logs slow queries with fingerprint and call site, EXPLAINs SELECTs once per interval, and hints at the missing index', async () => {
    const pool = database.pool()
    const { logs, logger } = capture()
    // A threshold of 0 makes every query slow: what counts here is what is done about one.
    const apm = instrumentPool(pool, { logger, slowQueryMs: 0, rollupIntervalMs: 0 })
    await pool.query(query, [7, 'secret-user7@example.com'])
    await pool.query(query, [8, 'secret-user8@example.com'])
    await pool.query('SELECT name FROM small WHERE name = $1', ['a'])
    await pool.query('UPDATE big SET email = email WHERE author_id = $1', [9])
    await apm.close()

    const slow = logs.filter((l) => l.msg.startsWith('slow query'))
    expect(slow.map((l) => l.fingerprint)).toEqual([
      'select id from big where author_id = ? and email = ?',
      'select id from big where author_id = ? and email = ?',
      'select name from small where name = ?',
      'update big set email = email where author_id = ?',
    ])
    // A fingerprint's first slow run marks it; its later runs carry their call site.
    expect(slow[1]?.callSite).toMatch(/^src\/db\/apm-routes\.test\.ts:\d+:\d+/)
    expect(JSON.stringify(logs)).not.toContain('secret-user')

    const plans = logs.filter((l) => l.msg === 'plan of a slow query')
    // Explained in the background, concurrently: in any order.
    expect(plans.map((l) => l.fingerprint).sort()).toEqual([
      'select id from big where author_id = ? and email = ?',
      'select name from small where name = ?',
    ])
    const hints = logs.filter((l) => l.msg.startsWith('missing index?'))
    expect(hints).toHaveLength(1)
    expect(hints[0]).toMatchObject({
      schema: 'public',
      table: 'big',
      columns: ['author_id', 'email'],
      statement: 'CREATE INDEX CONCURRENTLY ON "public"."big" ("author_id", "email");',
    })
    expect([...apm.hints.values()].map((h) => h.table)).toEqual(['big'])
    const { rows } = await admin.query(`SELECT table_name, columns, statement, table_rows FROM ${hintsTable}`)
    expect(rows).toEqual([
      {
        table_name: 'big',
        columns: ['author_id', 'email'],
        statement: hints[0]?.statement,
        table_rows: '20000',
      },
    ])
  })

  it('`shipshape db hints` lists the stored hints, with the statement to run', async () => {
    const run = (url: string) =>
      promisify(execFile)(process.execPath, [cli, 'db', 'hints'], {
        cwd: tmpdir(),
        env: { ...process.env, DATABASE_URL: url },
      })
    const { stdout } = await run(`postgresql://postgres@127.0.0.1:5432/${database.name}`)
    expect(stdout).toContain(
      'public.big (author_id, email): a sequential scan with a filter on 20,000 rows, seen 1×',
    )
    expect(stdout).toContain('  query: select id from big where author_id = ? and email = ?\n')
    expect(stdout).toContain('  CREATE INDEX CONCURRENTLY ON "public"."big" ("author_id", "email");\n')
    // A database the APM never wrote to has no table yet: no hints, no error.
    expect((await run('postgresql://postgres@127.0.0.1:5432/postgres')).stdout).toBe('No index hints yet.\n')
  })

  it('puts parameters on the slow-query line only when allowed', async () => {
    const pool = database.pool()
    const { logs, logger } = capture()
    const apm = instrumentPool(pool, {
      logger,
      slowQueryMs: 0,
      rollupIntervalMs: 0,
      logParameters: true,
      hintMinRows: 1e9,
    })
    await pool.query(query, [7, 'shown@example.com'])
    await apm.close()
    expect(logs.find((l) => l.msg.startsWith('slow query'))?.parameters).toEqual([7, 'shown@example.com'])
  })

  it('reads the compared columns out of a plan filter', () => {
    expect(filterColumns('(big.author_id = 42)')).toEqual(['author_id'])
    expect(filterColumns("((status)::text = 'x'::text)")).toEqual(['status'])
    expect(filterColumns('((a.x > 1) AND (a."Mixed Case" ~~ \'p%\'::text) OR (y IS NULL))')).toEqual([
      'x',
      'Mixed Case',
      'y',
    ])
  })
})
