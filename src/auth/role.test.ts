/** The role column the ops console added: rows made before it exist keep their admin rights. */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { AuthStore } from '../../dist/auth/index.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'

let database: TestDatabase
let pool: pg.Pool
beforeAll(async () => {
  database = await createTestDatabase('auth_role')
  pool = new pg.Pool({ connectionString: database.url, max: 2 })
})
afterAll(async () => {
  await pool?.end()
  await database?.drop()
})

it('adds the role to a users table made before it, its rows admins; new users are admins unless told', async () => {
  // The table as the auth capability made it before roles.
  await pool.query(`CREATE TABLE shipshape_admin_users (
    id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL, totp_secret text,
    totp_pending text, totp_last_step bigint NOT NULL DEFAULT 0, recovery_codes text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(), password_changed_at timestamptz NOT NULL DEFAULT now())`)
  await pool.query(`INSERT INTO shipshape_admin_users (email, password_hash) VALUES ('old@example.com', 'x')`)
  const store = new AuthStore(pool)
  expect((await store.userByEmail('old@example.com'))?.role).toBe('admin')
  expect((await store.createUser('new@example.com', 'x')).role).toBe('admin')
  expect((await store.createUser('viewer@example.com', 'x', 'viewer')).role).toBe('viewer')
  expect((await store.listUsers()).map((user) => `${user.email} ${user.role}`)).toEqual([
    'new@example.com admin',
    'old@example.com admin',
    'viewer@example.com viewer',
  ])
})
