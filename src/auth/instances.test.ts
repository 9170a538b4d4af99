/**
 * shipshape/auth beyond one server: two instances sharing Redis (REDIS_URL) and Postgres share
 * their lockout and their sessions (kept in Redis, hashed, with the timeouts as TTLs); a session
 * revoked on one is gone on both, by sign-out, `shipshape admin revoke-sessions` and a new
 * password; a password hashed with weaker parameters is rehashed at sign-in; the MFA grace
 * period; the idle and absolute timeouts. (The embedded database is the demo's:
 * examples/demo/demo.test.ts signs in and enrols on it.)
 */
import { createHash, randomBytes } from 'node:crypto'
import { hash } from '@node-rs/argon2'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, ready, startServe } from '../_test/cli.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { admin } from './_test/admin-cli.js'
import { FormClient } from './_test/client.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
const password = 'correct horse battery staple'
const prefix = `auth-${randomBytes(4).toString('hex')}`
const running: Running[] = []
let database: TestDatabase
let db: pg.Client
let redis: Redis
let env: Record<string, string>
let one: Running
let two: Running

beforeAll(async () => {
  database = await createTestDatabase('auth_redis')
  env = {
    DATABASE_URL: database.url,
    REDIS_URL: 'redis://127.0.0.1:6379',
    SHIPSHAPE_CACHE_PREFIX: prefix,
    SHIPSHAPE_AUTH_PROTECT: '/admin',
    // Required, but a user created within the hour may enter before enrolling.
    SHIPSHAPE_AUTH_MFA_GRACE: '1h',
    SHIPSHAPE_AUTH_IDLE_TIMEOUT: '4s',
    SHIPSHAPE_AUTH_ABSOLUTE_TIMEOUT: '8s',
  }
  const emails = ['ops@example.com', 'old@example.com', 'late@example.com']
  const created = await Promise.all(emails.map((email) => admin(['create', email], env, `${password}\n`)))
  expect(created.map((run) => run.status)).toEqual([0, 0, 0])
  for (let i = 0; i < 2; i++)
    running.push(await startServe([app, '--workers', '2', '--trusted-proxies', 'loopback'], env))
  await Promise.all(running.map((server) => ready(server, 2)))
  ;[one, two] = running as [Running, Running]
  db = new pg.Client(database.url)
  await db.connect()
  redis = new Redis('redis://127.0.0.1:6379')
})
afterAll(async () => {
  // SIGTERM, so the workers close their connections now (after a SIGKILL they linger, and so does the database drop).
  await Promise.all(
    running.map(async (server) => {
      server.child.kill('SIGTERM')
      await server.exited
    }),
  )
  await db?.end()
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length > 0) await redis.del(...keys)
  redis?.disconnect()
  await database?.drop()
})

const signIn = (server: Running, ip: string, email: string, pass: string) =>
  new FormClient(server.url, { 'x-forwarded-for': ip }).post('/admin/sign-in', { email, password: pass })

/** A client signed in as `email` on `server`, and the same browser (its cookies) on the other one. */
async function signedIn(server: Running, other: Running, ip: string, email: string) {
  const user = new FormClient(server.url, { 'x-forwarded-for': ip })
  expect((await user.post('/admin/sign-in', { email, password })).status).toBe(303)
  const elsewhere = new FormClient(other.url, { 'x-forwarded-for': ip })
  for (const [name, value] of user.cookies) elsewhere.cookies.set(name, value)
  return { user, elsewhere, token: user.cookies.get('shipshape-admin') as string }
}
const isIn = async (client: FormClient) => /^admin page for /.test((await client.get('/admin')).body)
const sleep = (ms: number) => new Promise((wait) => setTimeout(wait, ms))

describe('two instances with REDIS_URL', () => {
  it('share the lockout: failures on either count, the lock holds on both', async () => {
    const statuses = []
    for (const server of [one, two, one, two])
      statuses.push((await signIn(server, '10.9.0.1', 'nobody@example.com', 'wrong one')).status)
    expect(statuses).toEqual([401, 401, 429, 429])
  })

  it('keep sessions in Redis, SHA-256-hashed, with the idle timeout as TTL: valid on both instances, none in the database', async () => {
    const { elsewhere, token } = await signedIn(two, one, '10.9.0.2', 'old@example.com')
    expect(await isIn(elsewhere)).toBe(true)
    const key = `${prefix}:auth-session:${createHash('sha256').update(token).digest('hex')}`
    const ttl = await redis.pttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(4000)
    expect(await redis.keys(`*${token}*`)).toEqual([]) // the token itself is stored nowhere
    expect((await db.query('SELECT count(*)::int AS n FROM shipshape_admin_sessions')).rows[0].n).toBe(0)
    expect((await admin(['list'], env)).stdout).toMatch(/old@example.com .* sessions: 1 /) // counted in Redis
  })

  it('revoke a session on one instance and it is gone on both: sign-out, admin revoke-sessions, a new password', async () => {
    const first = await signedIn(one, two, '10.9.1.1', 'ops@example.com')
    expect((await first.elsewhere.post('/admin/sign-out', {})).status).toBe(200)
    expect(await isIn(first.user)).toBe(false)

    const [a, b] = [
      await signedIn(one, two, '10.9.1.2', 'ops@example.com'),
      await signedIn(two, one, '10.9.1.3', 'ops@example.com'),
    ]
    for (const client of [a.elsewhere, b.elsewhere]) expect(await isIn(client)).toBe(true)
    const revoked = await admin(['revoke-sessions', 'ops@example.com'], env)
    expect(revoked.stdout).toBe('Ended 2 sessions of ops@example.com.\n')
    for (const client of [a.user, a.elsewhere, b.user, b.elsewhere]) expect(await isIn(client)).toBe(false)

    const c = await signedIn(one, two, '10.9.1.4', 'ops@example.com')
    expect(await isIn(c.elsewhere)).toBe(true)
    expect((await admin(['reset-password', 'ops@example.com'], env, `${password}!\n`)).status).toBe(0)
    expect(await isIn(c.user)).toBe(false)
    expect(await isIn(c.elsewhere)).toBe(false)
  })

  it('raise a weak hash at the next sign-in; let a user in before enrolling only within the grace period', async () => {
    // Hashed long ago with weaker parameters: the next sign-in stores it at today's.
    const weak = await hash(password, { memoryCost: 8192, timeCost: 1, parallelism: 1 })
    await db.query("UPDATE shipshape_admin_users SET password_hash = $1 WHERE email = 'old@example.com'", [
      weak,
    ])
    const { user } = await signedIn(two, one, '10.9.2.1', 'old@example.com')
    const { rows } = await db.query(
      "SELECT password_hash FROM shipshape_admin_users WHERE email = 'old@example.com'",
    )
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    // Within its first hour (mfaGrace 1h) the new user enters without a second factor…
    expect((await user.get('/admin')).body).toMatch(/^admin page for old@example.com \(mfa false\)/)
    // …and once it is over, the same password leads to enrolment first.
    await db.query(
      "UPDATE shipshape_admin_users SET created_at = now() - interval '2 hours' WHERE email = 'late@example.com'",
    )
    const late = await signIn(one, '10.9.2.2', 'late@example.com', password)
    expect(late.headers.location).toBe('/admin/enrol?next=%2Fadmin')
  })

  it('end a session idle for the idle timeout, and a busy one at the absolute timeout, on both instances', async () => {
    const idle = await signedIn(one, two, '10.9.3.1', 'old@example.com')
    const busy = await signedIn(two, one, '10.9.3.2', 'old@example.com')
    const started = Date.now()
    // Used every 0.7 s on either instance, a session outlives the idle timeout, up to the absolute one (8 s).
    const seen: { at: number; in: boolean }[] = []
    let idleStillIn: boolean | undefined
    while (Date.now() - started < 9000) {
      seen.push({
        at: Date.now() - started,
        in: await isIn(seen.length % 2 === 0 ? busy.user : busy.elsewhere),
      })
      if (idleStillIn === undefined && Date.now() - started > 4500) idleStillIn = await isIn(idle.elsewhere)
      await sleep(700)
    }
    expect(idleStillIn).toBe(false)
    expect(seen.filter((use) => use.at < 7000).every((use) => use.in)).toBe(true)
    expect(seen.at(-1)).toMatchObject({ in: false })
  })
})
