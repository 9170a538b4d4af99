/**
 * The monitor through real processes: `shipshape serve` instances probing from their primaries,
 * agents (`shipshape monitor`) as child processes reporting over HTTP, the real Postgres shared
 * by two instances, and real receivers for PagerDuty's and Alertmanager's payloads. Intervals are
 * a second, so each incident plays out in seconds.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { get, type Running, sleep } from '../_test/cli.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { httpReceiver } from '../observe/_test/receivers.js'
import { MonitorStore } from './_store.js'
import {
  type AgentProcess,
  proxy,
  serveMonitored,
  startAgentProcess,
  target,
  token,
  writeConfig,
} from './_test/fixtures.js'

/** Seconds, not minutes: 2 failed probes a second apart, then a second of group_wait. */
const fast = { interval: '1s', timeout: '500ms', failures: 2, successes: 2 }
const timing = { groupWait: '1s', groupInterval: '2s', repeatInterval: '1h', diskFree: 0 }

let db: TestDatabase
let pool: pg.Pool
const running: (Running | AgentProcess | { close(): Promise<void> })[] = []
const dir = mkdtempSync(join(tmpdir(), 'shipshape-monitor-'))

beforeAll(async () => {
  db = await createTestDatabase('monitor')
  pool = new pg.Pool({ connectionString: db.url, max: 2 })
})
afterEach(async () => {
  for (const item of running.splice(0).reverse()) await ('close' in item ? item.close() : item.stop())
})
afterAll(async () => {
  await pool.end()
  await db.drop()
})

interface PagerDutyEvent {
  event_action: string
  dedup_key: string
  payload: { summary: string; severity: string }
}
interface AlertmanagerBody {
  version: string
  status: string
  alerts: { status: string; labels: Record<string, string>; fingerprint: string }[]
}

const serveWith = (config: string, vantage: string) =>
  serveMonitored(config, { DATABASE_URL: db.url, SHIPSHAPE_MONITOR_VANTAGE: vantage }, running)

describe('the monitor under serve', () => {
  it('sends one page per incident, and one resolve, with two instances sharing Postgres', async () => {
    const site = await target()
    const pagerduty = await httpReceiver()
    const webhook = await httpReceiver()
    running.push(site, pagerduty, webhook)
    const config = writeConfig(dir, 'two.json', {
      monitor: {
        checks: [{ name: 'site', url: site.url, ...fast }],
        tokens: [token],
        ...timing,
        pagerdutyKey: 'routing-key-0123',
        pagerdutyUrl: pagerduty.url,
        webhook: webhook.url,
      },
    })
    await Promise.all([serveWith(config, 'east'), serveWith(config, 'west')])
    await sleep(2500) // both vantage points see it up
    site.up = false
    await eventuallyPasses(async () => {
      if (pagerduty.bodies.length === 0) throw new Error('no page yet')
    }, 30_000)
    await sleep(5000) // long enough for the other instance, and for group_interval, to send anything more
    const triggers = (pagerduty.bodies as PagerDutyEvent[]).filter(
      (event) => event.event_action === 'trigger',
    )
    expect(triggers).toHaveLength(1)
    expect(triggers[0]?.payload).toMatchObject({ severity: 'critical' })
    expect(triggers[0]?.payload.summary).toMatch(/^site is down from 2 of 2 vantage points/)
    const firing = (webhook.bodies as AlertmanagerBody[]).filter((body) => body.status === 'firing')
    expect(firing).toHaveLength(1)
    expect(firing[0]).toMatchObject({
      version: '4',
      alerts: [{ status: 'firing', labels: { alertname: 'SiteDown', check: 'site' } }],
    })

    site.up = true
    await eventuallyPasses(async () => {
      if (!(pagerduty.bodies as PagerDutyEvent[]).some((event) => event.event_action === 'resolve'))
        throw new Error('not resolved yet')
    }, 30_000)
    await sleep(4000)
    const resolves = (pagerduty.bodies as PagerDutyEvent[]).filter(
      (event) => event.event_action === 'resolve',
    )
    expect(resolves).toHaveLength(1)
    expect(resolves[0]?.dedup_key).toBe(triggers[0]?.dedup_key)
    expect((webhook.bodies as AlertmanagerBody[]).map((body) => body.status)).toEqual(['firing', 'resolved'])
    expect(firing[0]?.alerts[0]?.fingerprint).toBe(triggers[0]?.dedup_key)
  }, 90_000)

  it('pages only when two vantage points agree; an agent that cannot reach the target, or the app, pages nobody', async () => {
    const site = await target()
    const webhook = await httpReceiver()
    running.push(site, webhook)
    const monitor = { tokens: [token], quorum: 2, ...timing, webhook: webhook.url, pageChannels: ['webhook'] }
    const config = writeConfig(dir, 'agents.json', {
      monitor: { checks: [{ name: 'site', url: site.url, ...fast }], ...monitor },
    })
    // The blind agent's route to the target is wrong: a closed port.
    const blind = writeConfig(dir, 'blind.json', {
      monitor: { checks: [{ name: 'site', url: 'http://127.0.0.1:1/health', ...fast }], ...monitor },
    })
    const started = Date.now()
    const server = await serveWith(config, 'server')
    const relay = await proxy(Number(new URL(server.url).port))
    running.push(relay)
    const reporting = startAgentProcess(relay.url, config, 'reporting')
    const cutOff = startAgentProcess(server.url, blind, 'blind')
    const impostor = startAgentProcess(server.url, config, 'impostor', 'a-wrong-token-0123456789')
    running.push(reporting, cutOff, impostor)

    // The wrong token is refused and logged; the blind agent alone sees the site down: no page.
    await server.waitForLog(
      (line) => line.msg === 'monitor: refused a request with a missing or wrong token',
      '401 logged',
    )
    await eventuallyPasses(async () => {
      const { rows } = await pool.query(
        `SELECT DISTINCT vantage FROM shipshape_monitor_results WHERE at > $1 ORDER BY vantage`,
        [new Date(started)],
      )
      expect(rows.map((row) => row.vantage)).toEqual(['blind', 'reporting', 'server'])
    }, 30_000)
    const { rows: blindRows } = await pool.query(
      `SELECT bool_or(ok) AS ever FROM shipshape_monitor_results WHERE vantage = 'blind'`,
    )
    expect(blindRows[0]?.ever).toBe(false)
    await sleep(4000)
    expect(webhook.bodies).toEqual([])

    // The reporting agent loses the app for a while: it keeps its results and sends them later.
    await relay.cut()
    const gapStart = Date.now()
    await sleep(3000)
    await relay.restore()
    await eventuallyPasses(async () => {
      const { rows } = await pool.query(
        `SELECT count(*) AS n FROM shipshape_monitor_results WHERE vantage = 'reporting' AND at BETWEEN $1 AND $2`,
        [new Date(gapStart + 500), new Date(gapStart + 2500)],
      )
      expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(1)
    }, 30_000)
    expect(
      reporting.logs.some((line) => line.msg.startsWith('monitor agent: cannot report to the app')),
    ).toBe(true)

    // Now the site is down for everyone: the page comes.
    site.up = false
    await eventuallyPasses(async () => {
      expect((webhook.bodies as AlertmanagerBody[]).map((body) => body.status)).toEqual(['firing'])
    }, 30_000)
    const summary = JSON.stringify(webhook.bodies[0])
    expect(summary).toContain('of 3 vantage points')
    expect(summary).not.toContain('impostor')
  }, 120_000)

  it('shows each check’s recent days on the status page, from every vantage point’s stored results', async () => {
    const site = await target()
    running.push(site)
    const config = writeConfig(dir, 'status.json', {
      monitor: { checks: [{ name: 'history', url: site.url, ...fast }], ...timing, statusPage: true },
    })
    const day = 86_400_000
    const dayOf = (ago: number) => new Date(Date.now() - ago * day).toISOString().slice(0, 10)
    await new MonitorStore(pool).migrate()
    // Three days ago all ten probes passed; two days ago one of ten failed.
    for (const [ago, failed] of [
      [3, 0],
      [2, 1],
    ] as const)
      for (let index = 0; index < 10; index++)
        await pool.query(
          `INSERT INTO shipshape_monitor_results (check_name, vantage, source, at, ok, ms) VALUES ('history', 'elsewhere', 'test', $1, $2, 20)`,
          [new Date(Date.parse(`${dayOf(ago)}T12:00:00Z`) + index * 60_000), index >= failed],
        )
    const server = await serveWith(config, 'here')
    const page = await eventuallyPasses(async () => {
      const status = await get(`${server.url}/_shipshape/monitor/status`)
      expect(status.status).toBe(200)
      expect(status.body).toMatch(new RegExp(`<li class="up" title="${dayOf(0)}: 100.00 % of \\d+ probes">`))
      return status.body
    }, 30_000)
    expect(page).toContain(`<li class="up" title="${dayOf(3)}: 100.00 % of 10 probes"></li>`)
    expect(page).toContain(`<li class="down" title="${dayOf(2)}: 90.00 % of 10 probes"></li>`)
    expect(page).toContain(`<li class="none" title="${dayOf(4)}: no probes"></li>`)
    expect(page.match(/<li /g)).toHaveLength(30)
    expect(page).toContain('<ol aria-label="history, the last 30 days">')
  }, 60_000)
})
