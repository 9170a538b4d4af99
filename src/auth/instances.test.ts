/**
 * shipshape/auth beyond one server: two instances sharing Redis (REDIS_URL) and Postgres share
 * their lockout; a password hashed with weaker parameters is rehashed at sign-in; and the
 * embedded database serves users and sessions, whose idle timeout ends them.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
  it('share the lockout: failures on either count, the lock holds on both; and a weak hash is raised at sign-in', async () => {
    database = await createTestDatabase('auth_redis')
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      SHIPSHAPE_CACHE_PREFIX: `auth-${randomBytes(4).toString('hex')}`,
      SHIPSHAPE_AUTH_PROTECT: '/admin',
      SHIPSHAPE_AUTH_MFA: 'optional',
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
        "UPDATE shipshape_admin_users SET password_hash = $1 WHERE email = 'ops@example.com'",
        [weak],
      )
      expect((await admin(['unlock', 'ops@example.com'], env)).status).toBe(0)
      await new Promise((wait) => setTimeout(wait, 5500)) // the workers look for unlocks every 5 s
      const page = await signIn(two, '10.9.0.2', 'ops@example.com', password)
      expect(page.status).toBe(303)
      const { rows } = await client.query(
        "SELECT password_hash FROM shipshape_admin_users WHERE email = 'ops@example.com'",
      )
      expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    } finally {
      await client.end()
    }
  })
})

describe('the embedded database', () => {
  it('keeps users and sessions; `shipshape admin` reaches it with and without serve; an idle session ends', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'auth-embedded-'))
    const env = {
      SHIPSHAPE_DB_EMBEDDED: 'true',
      SHIPSHAPE_DB_DATA_DIR: join(cwd, 'db'),
      SHIPSHAPE_AUTH_PROTECT: '/admin',
      SHIPSHAPE_AUTH_MFA: 'optional',
      SHIPSHAPE_AUTH_IDLE_TIMEOUT: '2s',
    }
    // With no serve running, the command starts the embedded database itself (and creates its data directory).
    const created = await admin(['create', 'ops@example.com'], env, `${password}\n`)
    expect(created.stderr).toBe('')
    expect(created.status).toBe(0)
    const server = await startServe([app, '--workers', '2'], env, undefined, { cwd })
    running.push(server)
    await ready(server, 2)
    // While serve runs, it reaches the database process serve supervises.
    expect((await admin(['list'], env)).stdout).toMatch(/^ops@example.com {2}mfa: NOT ENROLLED/)
    const user = new FormClient(server.url)
    expect((await user.post('/admin/sign-in', { email: 'ops@example.com', password })).status).toBe(303)
    expect((await user.get('/admin')).body).toMatch(/^admin page for ops@example.com \(mfa false\)/)
    await new Promise((wait) => setTimeout(wait, 2500))
    expect((await user.get('/admin')).headers.location).toBe('/admin/sign-in?next=%2Fadmin')
  })
})
