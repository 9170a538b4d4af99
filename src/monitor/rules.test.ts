/**
 * The alert rules and the not-crying-wolf logic through a real `shipshape serve` on the real
 * Postgres, notifying a real webhook receiver (Alertmanager's payload): ten failing endpoints in
 * one notification (grouping), their alerts muted while the site is down (inhibition) and heard
 * once it is back, a flapping check held in one notification, the latency, certificate and
 * heartbeat rules on real targets and real pings, a config silence, a recurring maintenance
 * window, a route by label to Slack, and an until-resolved silence from the API. Intervals are a
 * second.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sleep } from '../_test/cli.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import { httpReceiver } from '../observe/_test/receivers.js'
import {
  postgresSuite,
  selfSignedCert,
  serveMonitored,
  target,
  token,
  writeConfig,
} from './_test/fixtures.js'

interface Notification {
  status: string
  groupLabels: Record<string, string>
  alerts: { status: string; labels: Record<string, string>; annotations: { summary: string } }[]
}

const { running, url } = postgresSuite('monitor_rules', 'each')
const dir = mkdtempSync(join(tmpdir(), 'shipshape-monitor-rules-'))
const fast = { interval: '1s', timeout: '500ms', failures: 2, successes: 2 }

/** A serve instance notifying a fresh webhook receiver of every alert (pages and chat alike). */
async function monitored(name: string, monitor: Record<string, unknown>, observe: unknown = {}) {
  const webhook = await httpReceiver()
  running.push(webhook)
  const config = writeConfig(dir, `${name}.json`, {
    observe,
    monitor: {
      tokens: [token],
      groupWait: '1s',
      groupInterval: '2s',
      repeatInterval: '1h',
      diskFree: 0,
      auditInterval: 0,
      webhook: webhook.url,
      pageChannels: ['webhook'],
      chatChannels: ['webhook'],
      ...monitor,
    },
  })
  const server = await serveMonitored(config, { DATABASE_URL: url() }, running)
  const notes = () => webhook.bodies as Notification[]
  const of = (alertname: string) => notes().filter((note) => note.groupLabels.alertname === alertname)
  return { server, notes, of }
}

/** The local time HH:MM in Asia/Kolkata at `at`. */
const kolkata = (at: number) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Kolkata',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at)

describe('the alert rules under serve', () => {
  it('groups ten failing endpoints into one notification, and mutes them while the site is down', async () => {
    const site = await target()
    const api = await target()
    running.push(site, api)
    const endpoints = Array.from({ length: 10 }, (_, index) => ({
      name: `endpoint-${index}`,
      url: `${api.url}?endpoint=${index}`,
      ...fast,
    }))
    const slack = await httpReceiver()
    running.push(slack)
    const { of } = await monitored(
      'grouping',
      {
        checks: [{ name: 'site', url: site.url, site: true, ...fast }, ...endpoints],
        quorum: 1,
        chatChannels: ['webhook', 'slack'],
      },
      { notifySlack: slack.url },
    )
    await sleep(2500)
    api.up = false
    await eventuallyPasses(async () => expect(of('CheckFailing').length).toBeGreaterThan(0), 30_000)
    await sleep(3000) // group_interval: a straggler would come as a second notification
    expect(of('CheckFailing').map((note) => [note.status, note.alerts.length])).toEqual([['firing', 10]])
    // The same one notification in Slack (an incoming webhook's message), naming every endpoint.
    const messages = slack.bodies as { text: string }[]
    expect(messages.map((message) => message.text)).toEqual(['[FIRING:10] CheckFailing'])
    for (const endpoint of endpoints) expect(JSON.stringify(messages[0])).toContain(endpoint.name)
    api.up = true
    await eventuallyPasses(
      async () => expect(of('CheckFailing').map((note) => note.status)).toEqual(['firing', 'resolved']),
      30_000,
    )

    // The site down first, then the endpoints: their alerts are its consequences, and stay muted.
    site.up = false
    await eventuallyPasses(
      async () => expect(of('SiteDown').map((note) => note.status)).toEqual(['firing']),
      30_000,
    )
    api.up = false
    await sleep(6000)
    expect(of('CheckFailing')).toHaveLength(2)
    // The site back, the endpoints still down: now they are heard, once.
    site.up = true
    await eventuallyPasses(async () => {
      expect(of('SiteDown').map((note) => note.status)).toEqual(['firing', 'resolved'])
      expect(of('CheckFailing').map((note) => [note.status, note.alerts.length])).toEqual([
        ['firing', 10],
        ['resolved', 10],
        ['firing', 10],
      ])
    }, 30_000)
  }, 120_000)

  it('holds a flapping check in one notification until it has been steady for a whole window', async () => {
    const site = await target()
    running.push(site)
    const { of } = await monitored('flapping', {
      checks: [
        { name: 'flappy', url: site.url, interval: '500ms', timeout: '250ms', failures: 1, successes: 1 },
      ],
      quorum: 1,
      flapChanges: 4,
      flapWindow: '15s',
      groupWait: '500ms',
      groupInterval: '5s',
    })
    await sleep(1500)
    // Down and up every second for 10 seconds: ten changes of state.
    for (let flip = 0; flip < 10; flip++) {
      site.up = !site.up
      await sleep(1000)
    }
    site.up = true
    const flappingUntil = Date.now() + 15_000
    await eventuallyPasses(
      async () => expect(of('SiteDown').map((note) => note.status)).toEqual(['firing', 'resolved']),
      60_000,
    )
    // Nothing came between the first notification and the resolve, and the resolve waited for
    // the check to be steady for most of a window (the last changes fall out of it before it ends).
    expect(Date.now()).toBeGreaterThanOrEqual(flappingUntil - 5000)
  }, 120_000)

  it('alerts on a slow answer, a certificate near its expiry, and late, unfinished and failed jobs; not inside a maintenance window or a silence; by route', async () => {
    const slow = await target()
    slow.delayMs = 300
    const files = selfSignedCert(5)
    const https = createServer(
      { key: readFileSync(files.key), cert: readFileSync(files.cert) },
      (_req, res) => res.end('secure'),
    )
    await new Promise<void>((ready) => https.listen(0, '127.0.0.1', ready))
    const slack = await httpReceiver()
    running.push(slow, slack, { close: () => new Promise<void>((done) => https.close(() => done())) })
    const { server, of } = await monitored(
      'rules',
      {
        checks: [
          { name: 'slow', url: slow.url, latency: '100ms', ...fast },
          { name: 'cert', tls: `localhost:${(https.address() as AddressInfo).port}`, ...fast },
          // Down all along, inside a recurring maintenance window that began a minute ago in Kolkata (UTC+5:30).
          { name: 'muted', tcp: '127.0.0.1:1', ...fast },
          // Down too: silenced once, in the config file.
          { name: 'quiet', tcp: '127.0.0.1:1', ...fast },
          // Down, and routed by its label to Slack alone.
          { name: 'routed', tcp: '127.0.0.1:1', labels: { team: 'payments' }, ...fast },
        ],
        silences: [
          {
            match: { check: 'quiet' },
            from: new Date(Date.now() - 60_000).toISOString(),
            until: new Date(Date.now() + 7_200_000).toISOString(),
            comment: 'known',
          },
        ],
        routes: [{ match: { team: 'payments' }, channels: ['slack'] }],
        heartbeats: [{ name: 'job', period: '2s', grace: '1s' }],
        maintenance: [
          {
            match: { check: 'muted' },
            start: kolkata(Date.now() - 60_000),
            duration: '2h',
            timeZone: 'Asia/Kolkata',
          },
        ],
        quorum: 1,
      },
      { notifySlack: slack.url },
    )
    const summaries = (alertname: string) =>
      of(alertname).flatMap((note) =>
        note.status === 'firing' ? note.alerts.map((alert) => alert.annotations.summary) : [],
      )
    await eventuallyPasses(async () => {
      expect(summaries('LatencyHigh')).toEqual([
        expect.stringMatching(/^slow answers slowly: .* \(threshold 100 ms\)$/),
      ])
      expect(summaries('CertificateExpiring')).toEqual([
        expect.stringMatching(/^the certificate of cert expires in [45] day\(s\)/),
      ])
      // Never pinged within period + grace of the start.
      expect(summaries('HeartbeatMissed')).toEqual(['job has never pinged'])
    }, 30_000)

    const ping = (path: string) =>
      fetch(`${server.url}/_shipshape/monitor/ping/${path}?token=${token}`, { method: 'POST' })
    const heartbeat = async (path: string, summary: string | undefined) => {
      const count = of('HeartbeatMissed').length
      expect((await ping(path)).status).toBe(200)
      if (summary === undefined) return
      await eventuallyPasses(async () => {
        expect(
          of('HeartbeatMissed')
            .slice(count)
            .map((note) => note.status),
        ).toContain('firing')
        expect(summaries('HeartbeatMissed').at(-1)).toBe(summary)
      }, 30_000)
    }
    await heartbeat('job', undefined)
    await eventuallyPasses(async () => expect(of('HeartbeatMissed').at(-1)?.status).toBe('resolved'), 30_000)
    await heartbeat('job/start', 'job started but did not finish within its grace')
    await heartbeat('job', undefined)
    await eventuallyPasses(async () => expect(of('HeartbeatMissed').at(-1)?.status).toBe('resolved'), 30_000)
    await heartbeat('job/fail', 'job reported a failure')
    // Unpinged since its last success: late.
    await heartbeat('job', undefined)
    await eventuallyPasses(
      async () => expect(summaries('HeartbeatMissed').at(-1)).toMatch(/^job has not pinged since \d{4}-/),
      30_000,
    )
    // The self-signed certificate's check fails (untrusted) and is heard; the muted one never.
    const failing = of('CheckFailing').flatMap((note) => note.alerts.map((alert) => alert.labels.check))
    expect(failing).toContain('cert')
    expect(failing).not.toContain('muted')
    expect(failing).not.toContain('quiet')
    expect(failing).not.toContain('routed')
    const slackText = JSON.stringify(slack.bodies)
    expect(slackText).toContain('[FIRING:1] CheckFailing')
    expect(slackText).toContain('routed')
    expect(slackText).not.toContain('quiet')
    const listed = (await (
      await fetch(`${server.url}/_shipshape/monitor/checks`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { checks: { name: string; latest: { ok: boolean }[] }[] }
    expect(listed.checks.find((check) => check.name === 'muted')?.latest).toMatchObject([{ ok: false }])
  }, 150_000)

  it('mutes an alert until it resolves, and sends no resolved notification when told not to', async () => {
    const site = await target()
    running.push(site)
    const { server, of } = await monitored('until-resolved', {
      checks: [{ name: 'home', url: site.url, ...fast }],
      quorum: 1,
      sendResolved: false,
    })
    const api = `${server.url}/_shipshape/monitor/silences`
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const added = await fetch(api, {
      method: 'POST',
      headers,
      body: JSON.stringify({ match: { check: 'home' }, untilResolved: true, comment: 'known' }),
    })
    expect(added.status).toBe(201)
    const silences = async () =>
      ((await (await fetch(api, { headers })).json()) as { silences: { id: string }[] }).silences
    await sleep(6000) // the primaries read silences every five seconds
    site.up = false
    await sleep(6000)
    expect(of('SiteDown')).toEqual([])
    expect(await silences()).toHaveLength(1)
    // Over: the silence ends by itself, and the next outage is heard.
    site.up = true
    await eventuallyPasses(async () => expect(await silences()).toEqual([]), 30_000)
    site.up = false
    await eventuallyPasses(
      async () => expect(of('SiteDown').map((note) => note.status)).toEqual(['firing']),
      30_000,
    )
    site.up = true
    await sleep(8000) // two successes, then group_interval: a resolved notification would be here
    expect(of('SiteDown').map((note) => note.status)).toEqual(['firing'])
  }, 120_000)
})
