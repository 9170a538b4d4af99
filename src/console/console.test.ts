/**
 * The console under the real `shipshape serve` on the real Postgres (2 workers): sign-in with the
 * MFA step, every page, an admin's actions audited in the table and the log, a viewer's refused
 * with a 403; the monitor endpoint still answers at /_shipshape/monitor/; and on the embedded
 * database, a client outside the allow-list gets a 404.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, type Running, ready, startServe } from '../_test/cli.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { admin } from '../auth/_test/admin-cli.js'
import { FormClient } from '../auth/_test/client.js'
import { password, signedIn } from './_test/sign-in.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
let database: TestDatabase
let server: Running

beforeAll(async () => {
  database = await createTestDatabase('console')
  const env = { DATABASE_URL: database.url }
  const config = join(mkdtempSync(join(tmpdir(), 'console-config-')), 'shipshape.yaml')
  writeFileSync(
    config,
    'monitor:\n  checks:\n    - name: home\n      url: /\n      interval: 5s\n      timeout: 2s\n  statusPage: true\n',
  )
  const [adminUser, viewer, started] = await Promise.all([
    admin(['create', 'ops@example.com'], env, `${password}\n`),
    admin(['create', 'viewer@example.com', '--role', 'viewer'], env, `${password}\n`),
    startServe([app, '--workers', '2', '--config', config, '--apm-rollup-interval', '1s'], {
      ...env,
      SHIPSHAPE_APM_N_PLUS_ONE_FLOOR: '0',
    }),
  ])
  expect([adminUser.status, viewer.status]).toEqual([0, 0])
  expect(viewer.stdout).toMatch(/Created viewer@example.com \(viewer\)/)
  server = started
  await ready(server, 2)
})
afterAll(async () => {
  await server?.stop()
  await database?.drop()
})

const query = (sql: string) => database.query(sql)

/** Polls until `done` (each look a query): no timed assertion, only a bound on the whole wait. */
async function until(done: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  // A table not created yet (before the first rollup) is "not done".
  while (!(await done().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('not done in time')
    await new Promise((wait) => setTimeout(wait, 100))
  }
}

describe('the ops console on Postgres', () => {
  it('sends a visitor to the sign-in, and one who signed in with a password alone to the MFA step', async () => {
    const visitor = await get(`${server.url}/_shipshape/errors`)
    expect(visitor.status).toBe(303)
    expect(visitor.headers.location).toBe('/_shipshape/sign-in?next=%2F_shipshape%2Ferrors')
    const client = new FormClient(server.url)
    const signIn = await client.post('/_shipshape/sign-in', {
      email: 'ops@example.com',
      password,
      next: '/_shipshape/errors',
    })
    expect(signIn.headers.location).toBe('/_shipshape/enrol?next=%2F_shipshape%2Ferrors')
    const page = await client.get('/_shipshape/errors')
    expect(page.status).toBe(303)
    expect(page.headers.location).toMatch(/^\/_shipshape\/enrol\?next=/)
  })

  it('keeps the monitor endpoint at /_shipshape/monitor/, with no sign-in', async () => {
    const status = await get(`${server.url}/_shipshape/monitor/status`)
    expect(status.status).toBe(200)
    expect(status.body).toContain('home')
    const api = await get(`${server.url}/_shipshape/monitor/checks`)
    expect(api.status).toBe(401) // the monitor's own bearer token, not the console's sign-in
  })

  it('shows every page to an admin, and audits what they do', async () => {
    expect((await get(`${server.url}/boom`)).status).toBe(500)
    expect((await get(`${server.url}/loop`)).status).toBe(200)
    const client = await signedIn(server.url, 'ops@example.com')
    await server.waitForLog((line) => /^N\+1 queries/.test(String(line.msg)), 'the N+1 report')
    // The rollup writes the reports with the route figures, every second here.
    await until(
      async () => (await query(`SELECT 1 FROM shipshape_apm_reports WHERE kind = 'n+1'`)).length > 0,
    )
    const expected: Record<string, RegExp> = {
      '/_shipshape/': /<h1>Overview<\/h1>[\s\S]*Error rate, last hour/,
      '/_shipshape/errors': /the console test app failed on purpose/,
      '/_shipshape/endpoints': /GET \/loop/,
      '/_shipshape/database':
        /<h2>N\+1 loops, last 7 days<\/h2>[\s\S]*select \?::int as n[\s\S]*console\/_test\/app\.ts/,
      '/_shipshape/uptime': /<td>home<\/td>/,
      '/_shipshape/servers': /<h1>Servers<\/h1>/,
    }
    for (const [path, shows] of Object.entries(expected)) {
      const page = await client.get(path)
      expect(page.status, path).toBe(200)
      expect(page.body, path).toMatch(shows)
      // The strict policy, its stylesheet allowed by the request's nonce: nothing inline otherwise.
      const csp = String(page.headers['content-security-policy'])
      expect(csp, path).toMatch(/style-src 'self' 'nonce-[\w+/=-]+'/)
      expect(csp, path).not.toContain('unsafe-inline')
      expect(page.body, path).not.toMatch(/<script/)
    }
    const [issue] = await query('SELECT id FROM shipshape_issues')
    const id = String(issue?.id)
    const issuePage = await client.get(`/_shipshape/errors/${id}`)
    expect(issuePage.body).toMatch(/<h2>Stack<\/h2>[\s\S]*Error: the console test app failed on purpose/)
    expect(issuePage.body).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/boom/)
    // A form posted from another site is refused by the security middleware, before the console.
    const forged = await fetch(`${server.url}/_shipshape/errors/${id}/resolve`, {
      method: 'POST',
      headers: {
        cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        'sec-fetch-site': 'cross-site',
        'content-type': 'application/x-www-form-urlencoded',
      },
      redirect: 'manual',
    })
    expect(forged.status).toBe(403)
    const resolved = await client.post(`/_shipshape/errors/${id}/resolve`, {})
    expect(resolved.status).toBe(303)
    expect((await query('SELECT status FROM shipshape_issues'))[0]?.status).toBe('resolved')
    const muted = await client.post(`/_shipshape/errors/${id}/mute`, { hours: '2' })
    expect(muted.status).toBe(303)
    expect((await client.post(`/_shipshape/errors/${id}/unmute`, {})).status).toBe(303)
    expect((await query('SELECT status FROM shipshape_issues'))[0]?.status).toBe('unresolved')
    const silenced = await client.post('/_shipshape/uptime/silences', {
      check: 'home',
      hours: '1',
      comment: 'deploy',
    })
    expect(silenced.status).toBe(303)
    const [silence] = await query('SELECT id, comment FROM shipshape_monitor_silences')
    expect(silence?.comment).toBe('deploy (by ops@example.com)')
    expect((await client.get('/_shipshape/uptime')).body).toContain('check=home')
    const ended = await client.post(`/_shipshape/uptime/silences/${silence?.id}/end`, {})
    expect(ended.status).toBe(303)
    const audit = await query(
      'SELECT email, role, action, target, outcome FROM shipshape_console_audit ORDER BY id',
    )
    expect(audit.map((row) => `${row.action} ${row.outcome}`)).toEqual([
      'resolve success',
      'mute success',
      'unmute success',
      'silence-create success',
      'silence-end success',
    ])
    expect(audit[0]).toMatchObject({ email: 'ops@example.com', role: 'admin', target: `issue:${id}` })
    expect((await client.get('/_shipshape/')).body).toMatch(/Recent actions[\s\S]*silence-end/)
    await server.waitForLog(
      (line) => line.audit === 'console' && line.action === 'silence-end' && line.outcome === 'success',
      'the audit log line',
    )
  })

  it('lets a viewer read every page but answers their actions with a 403, audited', async () => {
    const client = await signedIn(server.url, 'viewer@example.com')
    const uptime = await client.get('/_shipshape/uptime')
    expect(uptime.status).toBe(200)
    expect(uptime.body).toContain('An admin creates and ends silences.')
    expect(uptime.body).not.toContain('Create silence')
    const [issue] = await query('SELECT id FROM shipshape_issues')
    const refused = await client.post(`/_shipshape/errors/${issue?.id}/resolve`, {})
    expect(refused.status).toBe(403)
    const silence = await client.post('/_shipshape/uptime/silences', {
      check: 'home',
      hours: '1',
      comment: 'x',
    })
    expect(silence.status).toBe(403)
    expect((await query('SELECT status FROM shipshape_issues'))[0]?.status).toBe('unresolved')
    const audit = await query(
      `SELECT action, outcome FROM shipshape_console_audit WHERE email = 'viewer@example.com'`,
    )
    expect(audit).toEqual([
      { action: 'resolve', outcome: 'refused-role' },
      { action: 'silence-create', outcome: 'refused-role' },
    ])
    await server.waitForLog(
      (line) => line.audit === 'console' && line.outcome === 'refused-role',
      'the refusal',
    )
  })
})

/** A GET from another loopback address than 127.0.0.1: a client the allow-list does not name. */
function getFrom(localAddress: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { localAddress, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
      .on('error', reject)
      .end()
  })
}

describe('the ops console on the embedded database', () => {
  it('shows its pages to 127.0.0.1 and answers a client outside console.allowIps with a 404', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'console-embedded-')), 'db')
    const env = { SHIPSHAPE_DB_EMBEDDED: 'true', SHIPSHAPE_DB_DATA_DIR: dataDir }
    expect((await admin(['create', 'ops@example.com'], env, `${password}\n`)).status).toBe(0)
    const embedded = await startServe([app, '--workers', '1', '--console-allow-ips', '127.0.0.1/32'], env)
    try {
      await ready(embedded, 1)
      expect((await get(`${embedded.url}/boom`)).status).toBe(500)
      const client = await signedIn(embedded.url, 'ops@example.com')
      for (const path of [
        '/_shipshape/',
        '/_shipshape/errors',
        '/_shipshape/endpoints',
        '/_shipshape/database',
        '/_shipshape/uptime',
        '/_shipshape/servers',
      ])
        expect((await client.get(path)).status, path).toBe(200)
      expect((await client.get('/_shipshape/errors')).body).toContain(
        'the console test app failed on purpose',
      )
      for (const path of ['/_shipshape/', '/_shipshape/sign-in', '/_shipshape/errors'])
        expect(await getFrom('127.0.0.2', `${embedded.url}${path}`), path).toBe(404)
      expect(await getFrom('127.0.0.2', `${embedded.url}/`)).toBe(200)
    } finally {
      await embedded.stop()
    }
  })

  it('leaves its prefix to the app on a server with no database', async () => {
    const bare = await startServe([app, '--workers', '1'])
    try {
      await ready(bare, 1)
      const reply = await get(`${bare.url}/_shipshape/`)
      expect([reply.status, reply.body]).toEqual([200, 'ok /_shipshape/'])
    } finally {
      await bare.stop()
    }
  })
})
