/**
 * Error-budget burn end to end: two `shipshape serve` instances sharing the real Postgres, their
 * workers answering real requests with 500s, the primaries' summed request counters sampled into
 * the database, and the page (PagerDuty's and Alertmanager's payloads, to real receivers) sent
 * once. The windows are seconds long (monitor.burnWindows), and each instance alone takes fewer
 * requests than a window needs to be judged (100): only the whole site's counts page. The
 * Alertmanager receiver fails its first request, so the retry is seen too.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { type Running, sleep } from '../_test/cli.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import { httpReceiver } from '../observe/_test/receivers.js'
import { postgresSuite, serveMonitored, token, writeConfig } from './_test/fixtures.js'

const { running, url } = postgresSuite('monitor_burn')

interface PagerDutyEvent {
  event_action: string
  dedup_key: string
  payload: { summary: string; severity: string }
}

/** `count` requests to `base`, every other one to /fail (a 500): at once, so they fall in one sample. */
async function traffic(base: string, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const response = await fetch(`${base}${index % 2 === 0 ? '/fail' : '/'}`)
      await response.arrayBuffer()
      return response.status
    }),
  )
}

describe('error-budget burn under serve', () => {
  it('pages once when the site, counted over both instances, burns its budget', async () => {
    const pagerduty = await httpReceiver()
    // The Alertmanager receiver fails its first request: the notification is retried (with backoff).
    const webhook = await httpReceiver(1)
    running.push(pagerduty, webhook)
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-monitor-burn-'))
    const config = writeConfig(dir, 'burn.json', {
      monitor: {
        // Something to monitor (the monitor runs only then), that sends no requests of its own.
        heartbeats: [{ name: 'job', period: '1d' }],
        tokens: [token],
        objective: 99,
        // 50 % errors against a 1 % budget is a 50× burn: over both windows' factor.
        burnWindows: [{ severity: 'page', factor: 10, long: '20s', short: '5s' }],
        groupWait: '1s',
        groupInterval: '2s',
        repeatInterval: '1h',
        diskFree: 0,
        auditInterval: 0,
        pagerdutyKey: 'routing-key-0123',
        pagerdutyUrl: pagerduty.url,
        webhook: webhook.url,
      },
    })
    const env = { DATABASE_URL: url() }
    const [east, west] = await Promise.all([
      serveMonitored(config, { ...env, SHIPSHAPE_MONITOR_VANTAGE: 'east' }, running),
      serveMonitored(config, { ...env, SHIPSHAPE_MONITOR_VANTAGE: 'west' }, running),
    ])
    const pool = new pg.Pool({ connectionString: url(), max: 1 })
    try {
      // Both primaries sample (every second: a tenth of the 5 s window, at least 1 s) before the traffic.
      await eventuallyPasses(async () => {
        const { rows } = await pool.query(
          `SELECT count(DISTINCT source) AS n FROM shipshape_monitor_requests`,
        )
        expect(Number(rows[0]?.n)).toBe(2)
      }, 30_000)
      await sleep(1500)
      // 60 requests each: under 100 for either instance, 120 for the site.
      const statuses = [
        ...(await traffic((east as Running).url, 60)),
        ...(await traffic((west as Running).url, 60)),
      ]
      expect(statuses.filter((status) => status === 500)).toHaveLength(60)
      await eventuallyPasses(async () => {
        if (pagerduty.bodies.length === 0) throw new Error('no page yet')
      }, 30_000)
      const { rows } = await pool.query(
        `SELECT source, max(total) - min(total) AS total FROM shipshape_monitor_requests GROUP BY source`,
      )
      expect(rows.map((row) => Number(row.total)).sort()).toEqual([60, 60])
      // Long enough for the other instance, and for the window to pass and the alert to resolve.
      await eventuallyPasses(async () => {
        const actions = (pagerduty.bodies as PagerDutyEvent[]).map((event) => event.event_action)
        expect(actions).toContain('resolve')
      }, 60_000)
      await sleep(3000)
      const events = pagerduty.bodies as PagerDutyEvent[]
      expect(events.map((event) => event.event_action)).toEqual(['trigger', 'resolve'])
      expect(events[0]?.payload.severity).toBe('critical')
      expect(events[0]?.payload.summary).toMatch(
        /the error budget burns at \d+\.\d× over 20s and \d+\.\d× over 5s \(threshold 10×\)/,
      )
      expect(events[1]?.dedup_key).toBe(events[0]?.dedup_key)
      const alertmanager = webhook.bodies as {
        status: string
        alerts: { labels: Record<string, string> }[]
      }[]
      expect(alertmanager.map((body) => body.status)).toEqual(['firing', 'resolved'])
      expect(webhook.attempts()).toBe(3)
      expect(alertmanager[0]?.alerts[0]?.labels).toEqual({
        alertname: 'ErrorBudgetBurn',
        severity: 'page',
        window: '20s',
      })
    } finally {
      await pool.end()
    }
  }, 120_000)
})
