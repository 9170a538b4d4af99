/** The console's own tables on the real Postgres: the audit log and the samples, kept for the retention. */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleStore } from '../../dist/console/_store.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'

let database: TestDatabase
let pool: pg.Pool
beforeAll(async () => {
  database = await createTestDatabase('console_store')
  pool = new pg.Pool({ connectionString: database.url, max: 2 })
})
afterAll(async () => {
  await pool?.end()
  await database?.drop()
})

const sample = (at: number) => ({
  at,
  host: 'web-1',
  workers: 2,
  cpuPercent: 12.5,
  memUsedBytes: 1e9,
  memTotalBytes: 4e9,
  rssBytes: 2e8,
  diskFreeBytes: 5e10,
  diskSizeBytes: 1e11,
  loopLagMs: 3.2,
  load1: 0.4,
})

describe('ConsoleStore', () => {
  it('keeps samples and audit lines for the retention, and reads the samples back per host', async () => {
    const store = new ConsoleStore(pool)
    const now = Date.now()
    const day = 86_400_000
    for (const at of [now - 20 * day, now - 2 * day, now - 60_000]) await store.addSample(sample(at))
    await store.audit({
      userId: '1',
      email: 'ops@example.com',
      role: 'admin',
      action: 'resolve',
      target: 'issue:x',
      outcome: 'success',
      ip: '127.0.0.1',
      requestId: 'r1',
    })
    await pool.query(`UPDATE shipshape_console_audit SET at = now() - interval '20 days'`)
    await store.prune(now, 14 * day)
    const kept = await store.samples(now - 30 * day)
    expect(kept.map((s) => Math.round((now - s.at) / day))).toEqual([2, 0])
    expect(kept[1]).toMatchObject({ host: 'web-1', workers: 2, cpuPercent: 12.5, loopLagMs: 3.2 })
    expect(await store.auditLog()).toEqual([])
  })
})
