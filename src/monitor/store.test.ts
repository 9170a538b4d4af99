/**
 * The store on the real Postgres: the whole site's request counts from several instances'
 * samples (a restarted instance is a new series), retention, the lockfile re-check's baseline,
 * and the status page's days.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { MonitorStore } from './_store.js'

let db: TestDatabase
let pool: pg.Pool
let store: MonitorStore
const second = 1000
const t0 = Date.UTC(2026, 11, 1, 12)

beforeAll(async () => {
  db = await createTestDatabase('monitor_store')
  pool = new pg.Pool({ connectionString: db.url, max: 2 })
  store = new MonitorStore(pool)
})
afterAll(async () => {
  await pool.end()
  await db.drop()
})

describe('the monitor store', () => {
  it('sums every instance’s requests over each window; a restart takes nothing away', async () => {
    // East answers 10 requests a second, 1 a 5xx; west 20, none; west restarts at 30 s.
    for (let s = 0; s <= 60; s += 5) {
      const at = t0 + s * second
      await store.addRequestSample('east', { at, total: 10 * s, errors: s })
      if (s < 30) await store.addRequestSample('west-1', { at, total: 1000 + 20 * s, errors: 7 })
      else await store.addRequestSample('west-2', { at, total: 20 * (s - 30), errors: 0 })
    }
    const counts = await store.requestCounts(t0 + 60 * second, [20 * second, 3_600_000])
    // The last 20 s: east 200 (20 errors), west-2 400.
    expect(counts.get(20 * second)).toEqual({ total: 600, errors: 20 })
    // Everything: east 600 (60), west-1 500 over 0–25 s, west-2 600 over 30–60 s.
    expect(counts.get(3_600_000)).toEqual({ total: 1700, errors: 60 })
  })

  it('prunes results, pings and silences past the retention, and request samples past the longest window', async () => {
    const now = t0 + 86_400_000
    const result = (at: number) => ({ check: 'old', vantage: 'here', at, ok: true, ms: 5 })
    await store.addResults([result(now - 10 * 86_400_000), result(now - 1000)], 'test')
    await store.addPing({ heartbeat: 'job', kind: 'success', at: now - 10 * 86_400_000 })
    await store.prune(now, 7 * 86_400_000, 3_600_000)
    const { rows } = await pool.query(
      `SELECT (SELECT count(*) FROM shipshape_monitor_results WHERE check_name = 'old') AS results,
              (SELECT count(*) FROM shipshape_monitor_pings) AS pings,
              (SELECT count(*) FROM shipshape_monitor_requests) AS samples`,
    )
    expect(rows[0]).toEqual({ results: '1', pings: '0', samples: '0' })
  })

  it('takes the first lockfile check as the baseline, and later findings as new until they go', async () => {
    const advisory = (key: string) => ({ key, id: key, name: key, summary: key })
    expect(await store.recordAdvisories([advisory('qs')], t0)).toEqual(new Set())
    expect(await store.recordAdvisories([advisory('qs'), advisory('minimist')], t0 + 1)).toEqual(
      new Set(['minimist']),
    )
    expect(await store.recordAdvisories([advisory('qs'), advisory('minimist')], t0 + 2)).toEqual(
      new Set(['minimist']),
    )
    expect(await store.recordAdvisories([advisory('qs')], t0 + 3)).toEqual(new Set())
  })

  it('gives each check’s days, oldest first, over every vantage point', async () => {
    const day = 86_400_000
    const now = Date.UTC(2026, 11, 20, 10)
    await store.addResults(
      [
        { check: 'days', vantage: 'a', at: now - 2 * day, ok: true, ms: 5 },
        { check: 'days', vantage: 'b', at: now - 2 * day, ok: false, ms: 5 },
        { check: 'days', vantage: 'a', at: now - 40 * day, ok: true, ms: 5 },
        { check: 'days', vantage: 'a', at: now, ok: true, ms: 5 },
      ],
      'test',
    )
    const days = (await store.history(now, 30)).filter((entry) => entry.check === 'days')
    expect(days).toEqual([
      { check: 'days', day: '2026-12-18', up: 0.5, probes: 2 },
      { check: 'days', day: '2026-12-20', up: 1, probes: 1 },
    ])
  })

  it('claims a notification for one instance, and the next incident at once after a resolve', async () => {
    const claim = (hash: string, at: number) => store.claim('webhook:SiteDown', hash, at, 300_000, 14_400_000)
    expect(await claim('a|', t0)).toBe(true)
    // Another instance with the same content, or a little more, within group_interval: not again.
    expect(await claim('a|', t0 + 1000)).toBe(false)
    expect(await claim('a;b|', t0 + 2000)).toBe(false)
    expect(await claim('|a', t0 + 60_000)).toBe(false)
    expect(await claim('|a', t0 + 300_000)).toBe(true)
    // The outage back a minute after its resolve: a new incident, paged now, once.
    expect(await claim('a|', t0 + 360_000)).toBe(true)
    expect(await claim('a|', t0 + 361_000)).toBe(false)
  })
})
