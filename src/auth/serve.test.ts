/**
 * shipshape/auth under `shipshape serve` with 4 workers on the real Postgres, behind a proxy
 * (trusted loopback, clients named by X-Forwarded-For): the allow-list, the lockout shared by
 * every worker, by IP or username, the same answer for unknown accounts, sign-in, enrolment,
 * the MFA step, replays, recovery codes, sessions, and `shipshape admin`.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../dist/auth/index.js'
import { type Running, ready, startServe } from '../_test/cli.js'
import { eventually, eventuallyPasses } from '../_test/pipeline.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { admin } from './_test/admin-cli.js'
import { codeFor, FormClient, type Page, recoveryCodesOn, secretOn } from './_test/client.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
const password = 'correct horse battery staple'
let database: TestDatabase
let server: Running
let env: Record<string, string>
let metricsUrl: string

beforeAll(async () => {
  database = await createTestDatabase('auth_serve')
  // TOTP secrets sealed at rest (auth.totpKey), as docs/auth.md advises.
  env = {
    DATABASE_URL: database.url,
    SHIPSHAPE_AUTH_TOTP_KEY: 'k'.repeat(16) + randomBytes(16).toString('hex'),
  }
  expect((await admin(['create', 'ops@example.com'], env, `${password}\n`)).status).toBe(0)
  server = await startServe(
    [
      app,
      '--workers',
      '4',
      '--trusted-proxies',
      'loopback',
      '--auth-protect',
      '/admin',
      '--auth-allow-ips',
      '10.0.0.0/8',
      '--metrics-bind',
      '127.0.0.1:0',
    ],
    env,
  )
  await ready(server, 4)
  metricsUrl = String(
    (await server.waitForLog((l) => typeof l.metricsUrl === 'string', 'metrics')).metricsUrl,
  )
})
afterAll(async () => {
  // SIGTERM: the workers close their connections now, so the database drop need not wait for them.
  server?.child.kill('SIGTERM')
  await server?.exited
  await database?.drop()
})

/** A visitor whose requests reach serve through the proxy, from `ip`. */
const from = (ip: string, proto = 'http') =>
  new FormClient(server.url, { 'x-forwarded-for': ip, 'x-forwarded-proto': proto })
const signIn = (client: FormClient, email: string, pass = password) =>
  client.post('/admin/sign-in', { email, password: pass, next: '/admin/reports' })
const withoutTokens = (body: string) => body.replace(/value="[\w-]{43}"/g, '').replace(/nonce="[^"]+"/g, '')

describe('a protected area under shipshape serve (4 workers, Postgres, behind a proxy)', () => {
  it('is a 404 outside the allow-list, for every path of the area', async () => {
    const stranger = from('192.0.2.7')
    for (const path of ['/admin', '/admin/sign-in', '/admin/anything'])
      expect((await stranger.get(path)).status).toBe(404)
    expect((await stranger.get('/public')).body).toBe('public page /public')
    const inside = await from('10.1.2.3').get('/admin/reports')
    expect(inside.status).toBe(303)
    expect(inside.headers.location).toBe('/admin/sign-in?next=%2Fadmin%2Freports')
  })

  it('locks an IP at its 3rd failure whichever worker each lands on; failures while locked do not extend it; another client is not locked out', async () => {
    const attacker = from('10.0.0.5')
    const statuses = []
    for (let i = 0; i < 4; i++)
      statuses.push((await signIn(attacker, `nobody${i}@example.com`, 'wrong password')).status)
    expect(statuses).toEqual([401, 401, 429, 429])
    // Several workers counted them (each request came on a new connection); their logs come in batches.
    const failures = await eventually(() => {
      const lines = server.logs.filter((line) => line.audit === 'auth' && line.ip === '10.0.0.5')
      return lines.length >= 4 && lines
    }, 'the audit lines')
    expect(new Set(failures.map((line) => line.pid)).size).toBeGreaterThan(1)
    const first = await signIn(attacker, 'nobody@example.com', 'wrong')
    await new Promise((wait) => setTimeout(wait, 1100))
    const later = await signIn(attacker, 'ops@example.com', password) // even the right password waits
    expect(later.status).toBe(429)
    expect(Number(later.headers['retry-after'])).toBeLessThan(Number(first.headers['retry-after']))
    expect(Number(first.headers['retry-after'])).toBeLessThanOrEqual(900)
    // Per-worker counts would give this address 3 tries on each of the 4 workers: every worker refuses it.
    for (let i = 0; i < 8; i++) expect((await signIn(attacker, 'ops@example.com', password)).status).toBe(429)
    await eventually(() => {
      const refused = server.logs.filter(
        (line) =>
          line.ip === '10.0.0.5' && line.outcome === 'refused-locked' && line.email === 'ops@example.com',
      )
      return new Set(refused.map((line) => line.pid)).size === 4
    }, 'refusals from each of the 4 workers')
    // Behind the same proxy, another client's address is its own: the real user signs in.
    expect((await signIn(from('10.0.0.6'), 'ops@example.com')).status).toBe(303)
    // Every attempt is an audit line with user and IP, never the password.
    expect(server.logs.some((line) => JSON.stringify(line).includes('wrong password'))).toBe(false)
    // And a metric, summed over the workers by the primary (their heartbeats carry it).
    const sample = (text: string, action: string, outcome: string) =>
      Number(
        new RegExp(
          `^shipshape_auth_events_total\\{action="${action}",outcome="${outcome}"\\} (\\d+)$`,
          'm',
        ).exec(text)?.[1] ?? 0,
      )
    await eventually(async () => {
      const text = await (await fetch(metricsUrl)).text()
      return (
        sample(text, 'sign-in', 'failure') >= 2 &&
        sample(text, 'lockout', 'locked') >= 1 &&
        sample(text, 'sign-in', 'refused-locked') >= 3
      )
    }, 'the auth events on /metrics')
  })

  it('locks a username tried from many addresses, with the same answer as for an account that does not exist', async () => {
    const tries = []
    for (let i = 0; i < 4; i++)
      tries.push(await signIn(from(`10.0.1.${i}`), 'ops@example.com', 'not it at all'))
    expect(tries.map((page) => page.status)).toEqual([401, 401, 429, 429])
    const unknown = []
    for (let i = 0; i < 4; i++)
      unknown.push(await signIn(from(`10.0.2.${i}`), 'ghost@example.com', 'not it at all'))
    expect(unknown.map((page) => page.status)).toEqual([401, 401, 429, 429])
    expect(withoutTokens(unknown[3]?.body ?? '')).toBe(withoutTokens(tries[3]?.body ?? ''))
    expect(unknown[3]?.headers['retry-after']).toBe(tries[3]?.headers['retry-after'])
    // `shipshape admin unlock` lifts it; running workers apply it within 5 s.
    expect((await admin(['unlock', 'ops@example.com'], env)).status).toBe(0)
    await eventuallyPasses(
      async () => expect((await signIn(from('10.0.3.1'), 'ops@example.com')).status).toBe(303),
      10_000,
    )
  })

  it('signs in, enrols TOTP with a QR code, refuses a replayed code, and spends each recovery code once', async () => {
    const user = from('10.0.4.1')
    const signedIn = await signIn(user, 'ops@example.com')
    expect(signedIn.headers.location).toBe('/admin/enrol?next=%2Fadmin%2Freports')
    const passwordCookie = user.cookies.get('shipshape-admin')
    // Not yet: the second factor is owed.
    expect((await user.get('/admin/reports')).headers.location).toBe('/admin/enrol?next=%2Fadmin%2Freports')
    const enrol = await user.get('/admin/enrol?next=%2Fadmin%2Freports')
    expect(enrol.body).toContain('<svg xmlns="http://www.w3.org/2000/svg"')
    expect(enrol.body).toMatch(/href="otpauth:\/\/totp\/shipshape:ops%40example.com\?secret=/)
    const secret = secretOn(enrol)
    expect((await user.post('/admin/enrol', { code: '000000', next: '/admin/reports' })).status).toBe(401)
    const firstCode = await codeFor(secret)
    const recovery = await user.post('/admin/enrol', { code: firstCode, next: '/admin/reports' })
    expect(recovery.status).toBe(200)
    const codes = recoveryCodesOn(recovery)
    expect(codes).toHaveLength(10)
    // Stored sealed: neither the secret nor anything that decodes to it without the key.
    const client = new pg.Client(database.url)
    await client.connect()
    const { rows } = await client.query(
      "SELECT totp_secret FROM shipshape_admin_users WHERE email = 'ops@example.com'",
    )
    await client.end()
    expect(rows[0].totp_secret).toMatch(/^enc1:[\w-]+$/)
    expect(rows[0].totp_secret).not.toContain(secret)
    expect(user.cookies.get('shipshape-admin')).not.toBe(passwordCookie) // a new session after MFA
    const planted = from('10.0.4.1')
    planted.cookies.set('shipshape-admin', passwordCookie as string)
    expect((await planted.get('/admin/reports')).headers.location).toMatch(/^\/admin\/sign-in/) // and the old one is dead
    expect((await user.get('/admin/reports')).body).toMatch(/^admin page for ops@example.com \(mfa true\)/)

    expect((await user.post('/admin/sign-out', {})).status).toBe(200)
    expect((await user.get('/admin/reports')).status).toBe(303)
    expect((await signIn(user, 'ops@example.com')).headers.location).toBe(
      '/admin/mfa?next=%2Fadmin%2Freports',
    )
    // The code that confirmed enrolment was accepted once: replayed, it is refused.
    expect((await user.post('/admin/mfa', { code: firstCode, next: '/admin/reports' })).status).toBe(401)
    const step = await user.post('/admin/mfa', { code: await codeFor(secret, 1), next: '/admin/reports' })
    expect(step.headers.location).toBe('/admin/reports')
    expect((await user.get('/admin/reports')).status).toBe(200)

    const other = from('10.0.4.2')
    await signIn(other, 'ops@example.com')
    expect((await other.post('/admin/mfa', { code: (codes[0] as string).toUpperCase() })).status).toBe(303)
    await other.post('/admin/sign-out', {})
    await signIn(other, 'ops@example.com')
    expect((await other.post('/admin/mfa', { code: codes[0] as string })).status).toBe(401)
    expect((await other.post('/admin/mfa', { code: codes[1] as string })).status).toBe(303) // and clears the count
    expect((await admin(['list'], env)).stdout).toMatch(
      /ops@example.com {2}mfa: yes \(8 recovery codes left\) {2}sessions: \d+/,
    )

    // A new password ends every session.
    expect((await admin(['reset-password', 'ops@example.com'], env, `${password}!\n`)).status).toBe(0)
    expect((await user.get('/admin/reports')).status).toBe(303)
  })

  it('throttles the MFA step: 3 wrong codes lock it for 10 s, with Retry-After, then the tiers', async () => {
    const user = from('10.0.5.1')
    expect((await signIn(user, 'ops@example.com', `${password}!`)).headers.location).toContain('/admin/mfa')
    const statuses: Page[] = []
    for (let i = 0; i < 4; i++) statuses.push(await user.post('/admin/mfa', { code: '123456' }))
    expect(statuses.map((page) => page.status)).toEqual([401, 401, 429, 429])
    expect(Number(statuses[3]?.headers['retry-after'])).toBeLessThanOrEqual(10)
    // Once the 10 s are over, the sign-in tiers follow: the 6th wrong code locks for 15 minutes.
    await new Promise((wait) => setTimeout(wait, Number(statuses[3]?.headers['retry-after']) * 1000 + 500))
    const after = []
    for (let i = 0; i < 3; i++) after.push(await user.post('/admin/mfa', { code: '123456' }))
    expect(after.map((page) => page.status)).toEqual([401, 401, 429])
    expect(Number(after[2]?.headers['retry-after'])).toBeGreaterThan(890)
  })

  it('starts a new session at each sign-in (a planted token is worthless); admin revoke-sessions ends them (database store)', async () => {
    const user = from('10.0.7.1')
    await signIn(user, 'ops@example.com', `${password}!`)
    const first = user.cookies.get('shipshape-admin') as string
    await signIn(user, 'ops@example.com', `${password}!`)
    expect(user.cookies.get('shipshape-admin')).not.toBe(first)
    const planted = from('10.0.7.1')
    planted.cookies.set('shipshape-admin', first)
    expect((await planted.get('/admin/reports')).headers.location).toMatch(/^\/admin\/sign-in/)
    // Half signed in (the MFA step is owed): the session exists until it is revoked.
    expect((await user.get('/admin/reports')).headers.location).toMatch(/^\/admin\/mfa/)
    const revoked = await admin(['revoke-sessions', 'ops@example.com'], env)
    expect(revoked.stdout).toMatch(/^Ended [1-9]\d* sessions? of ops@example.com/)
    expect((await user.get('/admin/reports')).headers.location).toMatch(/^\/admin\/sign-in/)
  })

  it('answers an unknown user in the time of a wrong password (lower quartiles of alternated sign-ins, within noise)', async () => {
    const stored = await hashPassword(password)
    const client = new pg.Client(database.url)
    await client.connect()
    await client.query(
      `INSERT INTO shipshape_admin_users (email, password_hash)
       SELECT 'timing' || i || '@example.com', $1 FROM generate_series(0, 19) i`,
      [stored],
    )
    await client.end()
    const known: number[] = []
    const unknown: number[] = []
    // Alternated, each from an address of its own (one failure each: nothing locks). A third
    // request per round shifts the primary's round-robin, so both kinds land on all 4 workers.
    for (let i = 0; i < 20; i++) {
      for (const [email, times] of [
        [`timing${i}@example.com`, known],
        [`nobody-timing${i}@example.com`, unknown],
      ] as const) {
        const started = performance.now()
        expect((await signIn(from(`10.0.8.${times === known ? i : 100 + i}`), email, 'wrong')).status).toBe(
          401,
        )
        times.push(performance.now() - started)
      }
      await from('10.0.8.250').get('/public')
    }
    // The lower quartiles: the work itself. On a shared machine the upper half is other processes' bursts.
    const quartile = (times: number[]) => times.sort((a, b) => a - b)[5] as number
    const ratio = quartile(unknown) / quartile(known)
    // The same work (a user look-up, one argon2id verification): a gap this size is a shared machine's noise.
    expect(ratio).toBeGreaterThan(0.6)
    expect(ratio).toBeLessThan(1.6)
  })

  it('sets a __Host- session cookie, HttpOnly, Secure and SameSite=Lax over HTTPS', async () => {
    const user = from('10.0.6.1', 'https')
    const page = await signIn(user, 'ops@example.com', `${password}!`)
    const cookie = ([page.headers['set-cookie']].flat() as string[]).find((line) =>
      line.includes('shipshape-admin'),
    )
    expect(cookie).toMatch(
      /^__Host-shipshape-admin=[\w-]{22}; Path=\/; Expires=|^__Host-shipshape-admin=[\w-]{22}; Path=\//,
    )
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/Secure/)
    expect(cookie).toMatch(/SameSite=Lax/)
  })
})
