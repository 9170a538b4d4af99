/**
 * shipshape/auth beyond one server: two instances sharing Redis (REDIS_URL) and Postgres share
 * their lockout; a password hashed with weaker parameters is rehashed at sign-in; an idle session
 * ends. (The embedded database is the demo's: examples/demo/demo.test.ts signs in and enrols on it.)
 */
import { randomBytes } from 'node:crypto'
import { hash } from '@node-rs/argon2'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { type Running, ready, startServe } from '../_test/cli.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { admin } from './_test/admin-cli.js'
import { FormClient } from './_test/client.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
const password = 'correct horse battery staple'
const running: Running[] = []
let database: TestDatabase | undefined
/** SIGTERM, so the workers close their connections now (after a SIGKILL they linger, and so does the database drop). */
const shutDown = async (server: Running) => {
  server.child.kill('SIGTERM')
  await server.exited
}
afterEach(async () => {
  await Promise.all(running.splice(0).map(shutDown))
  await database?.drop()
  database = undefined
})

const signIn = (server: Running, ip: string, email: string, pass: string) =>
  new FormClient(server.url, { 'x-forwarded-for': ip }).post('/admin/sign-in', { email, password: pass })

describe('two instances with REDIS_URL', () => {
  it('share the lockout and the sessions: failures on either count, the lock holds on both; a weak hash is raised at sign-in; an idle session ends', async () => {
    database = await createTestDatabase('auth_redis')
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      SHIPSHAPE_CACHE_PREFIX: `auth-${randomBytes(4).toString('hex')}`,
      SHIPSHAPE_AUTH_PROTECT: '/admin',
      SHIPSHAPE_AUTH_MFA: 'optional',
      SHIPSHAPE_AUTH_IDLE_TIMEOUT: '2s',
    }
    const created = await Promise.all(
      ['ops@example.com', 'old@example.com'].map((email) => admin(['create', email], env, `${password}\n`)),
    )
    expect(created.map((run) => run.status)).toEqual([0, 0])
    for (let i = 0; i < 2; i++)
      running.push(await startServe([app, '--workers', '2', '--trusted-proxies', 'loopback'], env))
    await Promise.all(running.map((server) => ready(server, 2)))
    const [one, two] = running as [Running, Running]
    const statuses = []
    for (const server of [one, two, one, two])
      statuses.push((await signIn(server, '10.9.0.1', 'ops@example.com', 'wrong one')).status)
    expect(statuses).toEqual([401, 401, 429, 429])

    // Hashed long ago with weaker parameters: the next sign-in stores it at today's.
    const client = new pg.Client(database.url)
    await client.connect()
    try {
      const weak = await hash(password, { memoryCost: 8192, timeCost: 1, parallelism: 1 })
      await client.query(
        "UPDATE shipshape_admin_users SET password_hash = $1 WHERE email = 'old@example.com'",
        [weak],
      )
      const user = new FormClient(two.url, { 'x-forwarded-for': '10.9.0.2' })
      expect((await user.post('/admin/sign-in', { email: 'old@example.com', password })).status).toBe(303)
      const { rows } = await client.query(
        "SELECT password_hash FROM shipshape_admin_users WHERE email = 'old@example.com'",
      )
      expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      // The session works on the other instance too, until it has been idle for the idle timeout.
      const onOne = new FormClient(one.url, { 'x-forwarded-for': '10.9.0.2' })
      for (const [name, value] of user.cookies) onOne.cookies.set(name, value)
      expect((await onOne.get('/admin')).body).toMatch(/^admin page for old@example.com/)
      await new Promise((wait) => setTimeout(wait, 2500))
      expect((await onOne.get('/admin')).headers.location).toBe('/admin/sign-in?next=%2Fadmin')
    } finally {
      await client.end()
    }
  })
})
