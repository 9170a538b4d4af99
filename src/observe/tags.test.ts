/**
 * Tags set by the app (setTag) under the real `shipshape serve` on the real Postgres, 2 workers:
 * every error event counts its own tag values in the shared table, whichever worker caught it;
 * slow-request reports carry them; the console shows an issue's distribution and filters issues by
 * a tag value; a bad tag is refused with the catalogue's error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, type Running, ready, startServe } from '../_test/cli.js'
import { eventuallyPasses as eventually } from '../_test/pipeline.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { admin } from '../auth/_test/admin-cli.js'
import type { FormClient } from '../auth/_test/client.js'
import { password, signedIn } from '../console/_test/sign-in.js'

const app = new URL('./_test/tagged.ts', import.meta.url).pathname
let database: TestDatabase
let server: Running
/** Signed in (with MFA enrolment) by the first console test, used by the next. */
let client: FormClient

beforeAll(async () => {
  database = await createTestDatabase('tags')
  const env = { DATABASE_URL: database.url }
  const [created, started] = await Promise.all([
    admin(['create', 'ops@example.com'], env, `${password}\n`),
    startServe([app, '--workers', '2', '--apm-rollup-interval', '1s', '--apm-slow-request', '50ms'], env),
  ])
  expect(created.status).toBe(0)
  server = started
  await ready(server, 2)
})
afterAll(async () => {
  await server?.stop()
  await database?.drop()
})

const query = (sql: string) => database.query(sql)

/** Polls until `done`: no timed assertion, only a bound on the whole wait. */
const until = (done: () => Promise<boolean>, what: string) =>
  eventually(async () => {
    if (!(await done())) throw new Error(`${what}: not yet`)
  })

describe('tags set by the app', () => {
  it('counts each event under its own tag values, across workers', async () => {
    const tenants = [...Array(20).fill('acme'), ...Array(10).fill('globex')] as string[]
    // One connection each, in parallel: both workers take some.
    const replies = await Promise.all(tenants.map((tenant) => get(`${server.url}/fail?tenant=${tenant}`)))
    expect(replies.map((reply) => reply.status)).toEqual(tenants.map(() => 500))
    await until(
      async () => Number((await query('SELECT sum(count) AS n FROM shipshape_issues'))[0]?.n) === 30,
      '30 events stored',
    )
    const catchers = new Set(
      server.logs
        .filter((line) => line.msg === 'the app failed to handle the request')
        .map((line) => line.pid),
    )
    expect(catchers.size).toBe(2)
    const rows = await query(
      `SELECT key, value, count FROM shipshape_issue_tags WHERE key IN ('tenant', 'region', 'request_id') ORDER BY key, value`,
    )
    expect(rows.map((row) => [row.key, row.value, Number(row.count)])).toEqual([
      ['region', 'eu-test', 30],
      ['tenant', 'acme', 20],
      ['tenant', 'globex', 10],
    ])
    const masked = await query(
      `SELECT key, value FROM shipshape_issue_tags WHERE key IN ('sessionId', 'author') ORDER BY key`,
    )
    expect(masked).toEqual([
      { key: 'author', value: 'ann' },
      { key: 'sessionId', value: '[Redacted]' },
    ])
  })

  it('shows the distribution on the issue page and filters the issues by a tag value', async () => {
    const [issue] = await query(`SELECT id FROM shipshape_issues`)
    client = await signedIn(server.url, 'ops@example.com')
    const page = await client.get(`/_shipshape/errors/${issue?.id}`)
    expect(page.status).toBe(200)
    const tags = page.body.slice(page.body.indexOf('<h2>Tags</h2>'), page.body.indexOf('<h2>Log lines</h2>'))
    expect(tags).toMatch(
      /<code>tenant<\/code><\/td><td><a href="[^"]+tag=tenant%3Aacme">acme<\/a><\/td><td class="n">20<\/td><td class="n">67%/,
    )
    expect(tags).toMatch(/globex<\/a><\/td><td class="n">10<\/td><td class="n">33%/)
    expect(tags).not.toContain('request_id')
    const logLines = page.body.slice(
      page.body.indexOf('<h2>Log lines</h2>'),
      page.body.indexOf('<h2>Breadcrumbs</h2>'),
    )
    // The fields in any order: Postgres keeps jsonb keys in its own.
    expect(logLines).toContain('<td>charging the tenant</td>')
    expect(logLines).toMatch(/<code>tenant=&quot;(acme|globex)&quot;<\/code>/)
    expect(logLines).toContain('<code>apiKey=&quot;[Redacted]&quot;</code>')
    expect(logLines).toContain('<code>attempt=1</code>')
    expect(page.body).not.toContain('key-never-shown')
    const acme = await client.get('/_shipshape/errors?tag=tenant%3Aacme')
    expect(acme.body).toContain('the tagged app failed on purpose')
    const nobody = await client.get('/_shipshape/errors?tag=tenant%3Ainitech')
    expect(nobody.body).not.toContain('the tagged app failed on purpose')
    expect(nobody.body).toContain('Nothing recorded yet')
    const malformed = await client.get('/_shipshape/errors?tag=tenant')
    expect(malformed.status).toBe(200)
    expect(malformed.body).toContain('is not key:value')
    expect(malformed.body).toContain('the tagged app failed on purpose')
  })

  it('puts the tags on slow-request reports, and on the route page', async () => {
    expect((await get(`${server.url}/slow?tenant=acme`)).status).toBe(200)
    await until(
      async () =>
        (await query(`SELECT 1 FROM shipshape_apm_reports WHERE kind = 'slow-request' AND route = '/slow'`))
          .length > 0,
      'the slow-request report',
    )
    const [report] = await query(
      `SELECT tags FROM shipshape_apm_reports WHERE kind = 'slow-request' AND route = '/slow'`,
    )
    expect(report?.tags).toEqual({ region: 'eu-test', tenant: 'acme' })
    const route = await client.get('/_shipshape/endpoints/route?method=GET&route=%2Fslow')
    expect(route.body).toContain('<span class="tag">tenant:acme</span>')
  })

  it('refuses a tag shipshape sets itself, with the catalogue error', async () => {
    const reply = await get(`${server.url}/bad-tag`)
    expect(reply.body).toMatch(/^SHIPSHAPE_E_TAG: .*the key request_id is set by shipshape on every event/)
  })
})
