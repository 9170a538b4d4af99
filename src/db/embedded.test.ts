/**
 * What only the embedded database process has to prove: one backend shared fairly (bounded
 * waits, abandoned transactions rolled back, idle transactions ended) and durability when the
 * process is killed mid-load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database, openDatabase } from '../../dist/db/index.js'
import { embeddedTarget, type Target, until } from './_test/targets.js'

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error & { code?: string; status?: number },
  )

/** One query succeeds (the pool may first hand out connections the restart closed). */
async function answers(db: Database): Promise<boolean> {
  try {
    return (await db.pool.query('SELECT 1 AS one')).rows[0].one === 1
  } catch {
    return false
  }
}

describe('the embedded database process', () => {
  let target: Target
  let db: Database

  beforeAll(async () => {
    target = await embeddedTarget({ busyTimeoutMs: 800, idleInTransactionMs: 1500 })
    db = openDatabase(target.options)
    await db.pool.query('CREATE TABLE items (id int PRIMARY KEY)')
  })
  afterAll(async () => {
    await db?.close()
    await target?.remove()
  })

  it('makes others wait for a transaction, at most the busy timeout, then fails them with SHIPSHAPE_E_DB_BUSY', async () => {
    const holder = await db.pool.connect()
    await holder.query('BEGIN')
    await holder.query('INSERT INTO items VALUES (1)')
    const waiting = await failureOf(db.pool.query('SELECT count(*) FROM items'))
    expect(waiting?.code).toBe('SHIPSHAPE_E_DB_BUSY')
    expect(waiting?.status).toBe(503)
    // A statement that waits its turn runs once the transaction ends, and sees it committed.
    const queued = db.pool.query('SELECT count(*)::int AS n FROM items')
    await holder.query('COMMIT')
    holder.release()
    expect((await queued).rows[0].n).toBe(1)
  })

  it('rolls back the transaction of a connection that goes away, and lets the others in', async () => {
    const leaver = await db.pool.connect()
    await leaver.query('BEGIN')
    await leaver.query('INSERT INTO items VALUES (2)')
    leaver.release(true) // destroys the connection mid-transaction
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM items WHERE id = 2')
    expect(rows[0].n).toBe(0)
  })

  it('ends a transaction left idle past the idle-in-transaction timeout', async () => {
    const idle = await db.pool.connect()
    idle.on('error', () => {})
    await idle.query('BEGIN')
    await idle.query('INSERT INTO items VALUES (3)')
    await until(() => answers(db), 'others run again')
    expect(await failureOf(idle.query('COMMIT'))).toBeInstanceOf(Error)
    idle.release(true)
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM items WHERE id = 3')
    expect(rows[0].n).toBe(0)
  })

  it('loses no acknowledged insert when killed with SIGKILL mid-load, answers 503 meanwhile, and is restarted', async () => {
    await db.pool.query('CREATE TABLE acked (id int PRIMARY KEY)')
    const acked: number[] = []
    const failures: string[] = []
    let next = 0
    let killed = false
    const pid = target.supervisor?.pid as number
    const writer = async () => {
      while (next < 400) {
        const id = next++
        if (id === 150) {
          process.kill(pid, 'SIGKILL')
          killed = true
        }
        try {
          await db.pool.query('INSERT INTO acked VALUES ($1)', [id])
          acked.push(id)
        } catch (error) {
          failures.push((error as { code?: string }).code ?? String(error))
        }
      }
    }
    await Promise.all([writer(), writer(), writer()])
    expect(killed).toBe(true)
    expect(failures.length).toBeGreaterThan(0)
    expect(new Set(failures)).toEqual(new Set(['SHIPSHAPE_E_DB_UNAVAILABLE']))
    await until(() => target.supervisor?.pid !== pid, 'a new database process')
    await until(() => answers(db), 'the restarted database answers')
    const { rows } = await db.pool.query('SELECT id FROM acked')
    const stored = new Set(rows.map((row: { id: number }) => row.id))
    expect(acked.filter((id) => !stored.has(id))).toEqual([])
    expect(acked.length).toBeGreaterThanOrEqual(140)
    await db.pool.query('INSERT INTO acked VALUES (1000)')
  })
})
