/**
 * The APM in `shipshape serve` with two workers on the real Postgres: each worker instruments its
 * own pool, the access line carries the query figures, the N+1 page is reported with its call
 * site, and both workers' per-route figures end up in the one table.
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, type Running, ready, sleep, startServe } from '../_test/cli.js'
import { eventually } from '../_test/pipeline.js'
import { routesTable } from './_apm-store.js'
import { seed } from './_test/blog.js'
import { freshDatabase } from './_test/postgres.js'

let database: Awaited<ReturnType<typeof freshDatabase>>
let admin: pg.Pool
let server: Running

beforeAll(async () => {
  database = await freshDatabase()
  admin = database.pool()
  await seed(admin)
  server = await startServe(
    [
      new URL('./_test/serve-app.ts', import.meta.url).pathname,
      '--workers',
      '2',
      '--apm-rollup-interval',
      '1s',
    ],
    { DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${database.name}`, NODE_ENV: 'development' },
  )
  await ready(server, 2)
}, 60_000)
afterAll(async () => {
  await server?.stop()
  await database?.drop()
})

describe('the APM under shipshape serve --workers 2', () => {
  it('counts, reports the N+1 with its call site, and rolls every worker up to the database', async () => {
    for (let i = 1; i <= 20; i++) {
      expect((await get(`${server.url}/posts/${i}`)).status).toBe(200)
      expect((await get(`${server.url}/posts/fixed?page=${i}`)).status).toBe(200)
    }
    const lines = await eventually(() => {
      const found = server.logs.filter((l) => l.msg === 'request')
      return found.length >= 40 && found
    }, '40 access lines')
    expect(new Set(lines.map((l) => l.route))).toEqual(new Set(['/posts/:id', '/posts/fixed']))
    for (const line of lines) expect(line.dbQueries).toBe(line.route === '/posts/fixed' ? 1 : 21)
    const reports = server.logs.filter((l) => l.msg.startsWith('N+1'))
    expect(reports).toHaveLength(20)
    expect(reports.every((r) => r.route === '/posts/:id' && r.count === 20)).toBe(true)
    expect(reports[0]?.callSite).toMatch(/src\/db\/_test\/serve-app\.ts:\d+:\d+/)
    // Two workers served: both write their windows.
    const query = `SELECT pid, route, sum(requests)::int AS requests FROM ${routesTable} GROUP BY pid, route`
    let rows: { pid: number; route: string; requests: number }[] = []
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(200)) {
      rows = await admin.query(query).then(
        (result) => result.rows,
        () => [],
      )
      if (rows.reduce((sum, row) => sum + row.requests, 0) === 40) break
    }
    const byRoute = new Map<string, number>()
    for (const row of rows) byRoute.set(row.route, (byRoute.get(row.route) ?? 0) + row.requests)
    expect(Object.fromEntries(byRoute)).toEqual({ '/posts/:id': 20, '/posts/fixed': 20 })
    expect(new Set(rows.map((row) => row.pid)).size).toBe(2)
  }, 60_000)

  it('writes the last window when the workers stop, before a minute is up', async () => {
    const other = await freshDatabase()
    try {
      await seed(other.pool())
      const quiet = await startServe(
        [new URL('./_test/serve-app.ts', import.meta.url).pathname, '--workers', '1'],
        {
          DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${other.name}`,
        },
      )
      await ready(quiet, 1)
      for (let i = 0; i < 3; i++) expect((await get(`${quiet.url}/posts/fixed`)).status).toBe(200)
      quiet.child.kill('SIGTERM') // a graceful stop: the workers drain and leave
      await quiet.exited
      const { rows } = await other.pool().query(`SELECT route, requests FROM ${routesTable}`)
      expect(rows).toEqual([{ route: '/posts/fixed', requests: 3 }])
    } finally {
      await other.drop()
    }
  }, 60_000)
})
