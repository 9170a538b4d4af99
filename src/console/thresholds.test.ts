/**
 * Per-route slow-request thresholds under the real `shipshape serve` (2 workers) on the real
 * Postgres: a route whose threshold (apm.routeThresholds, from the config file) is below its
 * 60 ms is reported slow-request and marked on the Endpoints page; an equally slow route on the
 * default (apm.slowRequest, 500 ms) is not; a bad pattern stops `serve` before it serves.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, type Running, ready, runCli, startServe } from '../_test/cli.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { admin } from '../auth/_test/admin-cli.js'
import { password, signedIn } from './_test/sign-in.js'

const app = new URL('./_test/thresholds-app.ts', import.meta.url).pathname
let database: TestDatabase
let server: Running

beforeAll(async () => {
  database = await createTestDatabase('thresholds')
  const env = { DATABASE_URL: database.url }
  const config = join(mkdtempSync(join(tmpdir(), 'thresholds-config-')), 'shipshape.json')
  writeFileSync(config, JSON.stringify({ apm: { routeThresholds: { '/slow*': '30ms' } } }))
  const [created, started] = await Promise.all([
    admin(['create', 'ops@example.com'], env, `${password}\n`),
    startServe([app, '--workers', '2', '--config', config, '--apm-rollup-interval', '1s'], env),
  ])
  expect(created.status).toBe(0)
  server = started
  await ready(server, 2)
}, 60_000)
afterAll(async () => {
  await server?.stop()
  await database?.drop()
})

/** The rows of `sql`, or none before the first rollup has created the table it reads. */
const query = (sql: string) =>
  database.query(sql).catch((error: { code?: string }) => {
    if (error.code === '42P01') return []
    throw error
  })

describe('per-route thresholds under shipshape serve --workers 2', () => {
  it('reports the requests over their route’s threshold, and the Endpoints page marks the route', async () => {
    for (let i = 1; i <= 10; i++) {
      expect((await get(`${server.url}/slow/${i}`)).status).toBe(200)
      expect((await get(`${server.url}/other`)).status).toBe(200)
      expect((await get(`${server.url}/fast`)).status).toBe(200)
    }
    // Every request rolled up (two workers, a window a second): then their reports are written too.
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      const [row] = await query('SELECT sum(requests)::int AS n FROM shipshape_apm_routes')
      if (row?.n === 30) break
      await new Promise((wait) => setTimeout(wait, 100))
    }
    const reported = await query(
      `SELECT route, count(*)::int AS n, min(ms) AS fastest FROM shipshape_apm_reports
       WHERE kind = 'slow-request' GROUP BY route`,
    )
    expect(reported.map((row) => ({ route: row.route, n: row.n }))).toEqual([{ route: '/slow/:id', n: 10 }])
    expect(Number(reported[0]?.fastest)).toBeGreaterThanOrEqual(30)

    const client = await signedIn(server.url, 'ops@example.com')
    const page = await client.get('/_shipshape/endpoints?window=1h')
    expect(page.status).toBe(200)
    const row = (route: string) => {
      const found = page.body.split('<tr>').find((tr) => tr.includes(`>GET ${route}</a>`))
      if (found === undefined) throw new Error(`no row for ${route} in:\n${page.body}`)
      return found
    }
    expect(page.body).toContain('Threshold</a>')
    expect(row('/slow/:id')).toMatch(/<td class="n">30 ms <span class="tag warn"[^>]*>p95 over<\/span><\/td>/)
    expect(row('/other')).toContain('<td class="n">500 ms</td>')
    expect(row('/other')).not.toContain('tag warn')
    expect(row('/fast')).toContain('<td class="n">500 ms</td>')
    // Sorted by how far over their threshold they are: /slow/:id (60 ms over 30) first.
    const sorted = await client.get('/_shipshape/endpoints?window=1h&sort=overBy')
    expect(sorted.body).toContain('Threshold ▼')
    expect(sorted.body.indexOf('>GET /slow/:id</a>')).toBeLessThan(sorted.body.indexOf('>GET /other</a>'))

    const routePage = await client.get(
      `/_shipshape/endpoints/route?method=GET&route=${encodeURIComponent('/slow/:id')}`,
    )
    expect(routePage.status).toBe(200)
    expect(routePage.body).toContain('Threshold: 30 ms (apm.routeThresholds <code>/slow*</code>)')
    expect(routePage.body).toMatch(/p95 \d+ ms <span class="tag warn"/)
    const slowRequests = routePage.body.slice(routePage.body.indexOf('<h2>Slow requests</h2>'))
    expect(slowRequests.slice(0, slowRequests.indexOf('<h2>N+1')).match(/<tr>/g)).toHaveLength(11) // head + 10
    const other = await client.get(
      `/_shipshape/endpoints/route?method=GET&route=${encodeURIComponent('/other')}`,
    )
    expect(other.body).toContain('Threshold: 500 ms (apm.slowRequest)')
  }, 60_000)

  it('stops `serve` on a bad pattern, before it serves, naming the setting and the pattern', async () => {
    const failure = await runCli(
      [
        'serve',
        app,
        '--bind',
        '127.0.0.1:0',
        '--apm-route-thresholds',
        '{"/api/*/x": "1s", "FETCH /a": "1s"}',
      ],
      { env: { ...process.env, DATABASE_URL: database.url } },
    )
    expect(failure.status).toBe(1)
    expect(failure.stderr).toContain('SHIPSHAPE_E_BAD_OPTION')
    expect(failure.stderr).toContain('apm.routeThresholds from --apm-route-thresholds')
    expect(failure.stderr).toContain('/api/*/x: * only at the end of the pattern')
    expect(failure.stderr).toContain('FETCH /a: a known HTTP method')
    expect(failure.stdout).not.toContain('listening')
  })
})
