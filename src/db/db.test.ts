/**
 * shipshape/db's pool against both databases (see _test/targets.ts): the same behaviours, the
 * same assertions, on the real PostgreSQL and on the embedded database process.
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database, openDatabase } from '../../dist/db/index.js'
import { baseOptions, relayToPostgres, type Target, targets, until } from './_test/targets.js'

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error & { code?: string; status?: number },
  )

async function transfer(pool: pg.Pool, from: number, to: number, amount: number): Promise<boolean> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    // Rows locked in id order: two transfers crossing each other never deadlock on Postgres.
    await client.query('SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE', [[from, to]])
    await client.query('UPDATE accounts SET balance = balance - $2 WHERE id = $1', [from, amount])
    await client.query('UPDATE accounts SET balance = balance + $2 WHERE id = $1', [to, amount])
    await client.query('COMMIT')
    return true
  } catch (error) {
    await client.query('ROLLBACK')
    if ((error as { code?: string }).code === '23514') return false // the CHECK refused an overdraft
    throw error
  } finally {
    client.release()
  }
}

describe.each(targets)('the pool on %s', (_name, make) => {
  let target: Target
  let db: Database

  beforeAll(async () => {
    target = await make()
    db = openDatabase(target.options)
  })
  afterAll(async () => {
    await db?.close()
    await target?.remove()
  })

  it('keeps its connections: in steady state a hundred queries in a row open no new connection', async () => {
    await until(() => db.notReady() === undefined, 'the pool reports ready')
    await db.pool.query('SELECT 1') // the steady state: the health check's connection is back in the pool
    let opened = 0
    db.pool.on('connect', () => opened++)
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.pool.query('SELECT $1::int AS n', [i])
      expect(rows[0].n).toBe(i)
    }
    expect(opened).toBe(0)
  })

  it('never interleaves transactions: concurrent transfers from two pools keep the total exact', async () => {
    await db.pool.query(
      'CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0))',
    )
    await db.pool.query('INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 5) g')
    const other = openDatabase(target.options) // a second worker's pool
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const runs = (pool: pg.Pool) =>
      Array.from({ length: 4 }, async () => {
        let refused = 0
        for (let i = 0; i < 15; i++) {
          const from = 1 + random(5)
          const to = 1 + ((from + random(4)) % 5)
          if (!(await transfer(pool, from, to, 1 + random(80)))) refused++
        }
        return refused
      })
    const refused = await Promise.all([...runs(db.pool), ...runs(other.pool)])
    await other.close()
    const { rows } = await db.pool.query(
      'SELECT sum(balance)::int AS total, min(balance) AS low FROM accounts',
    )
    expect(rows[0].total).toBe(500)
    expect(rows[0].low).toBeGreaterThanOrEqual(0)
    // Some transfers asked for more than the balance: the constraint really was in play.
    expect(refused.reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  })

  it('cancels a statement past the statement timeout, then serves the next one', async () => {
    const error = await failureOf(db.pool.query('SELECT pg_sleep(5)'))
    expect(error?.code).toBe('57014')
    await until(async () => {
      try {
        return (await db.pool.query('SELECT 1 AS one')).rows[0].one === 1
      } catch {
        return false // the embedded database closed every connection as it restarted its backend
      }
    }, 'a query succeeds after the cancelled one')
  })
})

describe('an unreachable database', () => {
  it('fails queries with SHIPSHAPE_E_DB_UNAVAILABLE (503) naming the host, never the password', async () => {
    const closed = await relayToPostgres() // never opened
    const db = openDatabase({
      ...baseOptions,
      url: `postgresql://app:hunter2-secret@127.0.0.1:${closed.port}/app`,
    })
    const error = await failureOf(db.pool.query('SELECT 1'))
    expect(error?.code).toBe('SHIPSHAPE_E_DB_UNAVAILABLE')
    expect(error?.status).toBe(503)
    expect(error?.message).toContain(`127.0.0.1:${closed.port}`)
    expect(`${error?.message} ${error?.stack}`).not.toContain('hunter2')
    expect(db.notReady()).toBe('database unreachable')
    await db.close()
  })
})
