/**
 * The monitor on the embedded database, through the real `shipshape serve`: heartbeat pings, an
 * e-mail to a real SMTP server, a silence added, listed and expired with `shipshape monitor
 * silence`, the disk-space rule, a failing channel seen in the log and the metrics, the status page under the strict
 * CSP, checks added and removed through the API, and the API refusing a request without a token.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { get, type Running, runCli, sleep, startServe } from '../_test/cli.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import { embeddedTarget } from '../db/_test/targets.js'
import { httpReceiver, smtpReceiver } from '../observe/_test/receivers.js'
import { target, token, writeConfig } from './_test/fixtures.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
const closing: { close(): Promise<void> }[] = []
let server: Running | undefined

afterAll(async () => {
  await server?.stop()
  for (const item of closing) await item.close()
})

describe('the monitor on the embedded database', () => {
  it('alerts on heartbeats by e-mail, honours silences from the CLI, shows a failing channel and serves the status page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-monitor-embedded-'))
    const site = await target()
    const smtp = await smtpReceiver()
    const broken = await httpReceiver(Number.POSITIVE_INFINITY)
    closing.push(site, smtp, broken)
    const config = writeConfig(dir, 'shipshape.json', {
      observe: { notifyEmail: ['ops@example.com'], smtpUrl: smtp.url },
      monitor: {
        checks: [
          { name: 'home', url: site.url, interval: '1s', timeout: '500ms', failures: 2, successes: 2 },
        ],
        // Long enough never to be late during the test: its alert comes from the failure it reports.
        heartbeats: [{ name: 'backup', period: '1m', grace: '10s' }],
        tokens: [token],
        quorum: 1,
        groupWait: '1s',
        groupInterval: '2s',
        diskFree: 100, // every filesystem has less than 100% free: the rule fires at start
        statusPage: true,
        webhook: broken.url,
        pageChannels: ['pagerduty'],
      },
    })
    // The embedded database's data directory, made beforehand: on a busy machine that takes
    // longer than the harness waits for serve to listen.
    await (
      await embeddedTarget({ dataDir: join(dir, 'db'), socketDir: join(dir, 'init') })
    ).supervisor?.stop()
    server = await startServe(
      [
        app,
        '--workers',
        '1',
        '--config',
        config,
        '--db-data-dir',
        join(dir, 'db'),
        '--metrics-bind',
        '127.0.0.1:0',
      ],
      { SHIPSHAPE_DB_EMBEDDED: 'true' },
    )
    const { metricsUrl } = await server.waitForLog(
      (l) => typeof l.metricsUrl === 'string',
      'serving metrics',
      60_000,
    )
    await server.waitForLog((l) => l.msg === 'worker ready', 'worker ready', 60_000)
    const api = `${server.url}/_shipshape/monitor`
    const ping = (path: string) => fetch(`${api}/ping/${path}?token=${token}`, { method: 'POST' })
    expect((await ping('backup')).status).toBe(200)
    expect((await get(`${api}/checks`)).status).toBe(401)
    expect((await ping('nightly')).status).toBe(404)

    // A job that reports exit code 1: an e-mail (chat severity), and the broken webhook fails for good.
    expect((await ping('backup/1')).status).toBe(200)
    const subjects = () => smtp.mails.map((mail) => /^Subject: (.*)$/m.exec(mail)?.[1] ?? '')
    await eventuallyPasses(async () => expect(subjects()).toContain('[FIRING:1] HeartbeatMissed'), 30_000)
    expect(smtp.mails.find((mail) => mail.includes('HeartbeatMissed'))).toMatch(/exit code 1/)
    await eventuallyPasses(
      async () => expect(subjects()).toContainEqual(expect.stringMatching(/\] DiskSpaceLow$/)),
      30_000,
    )
    await server.waitForLog(
      (l) => l.msg === 'notification not delivered: the webhook channel failed 3 times',
      'the failing channel logged',
      30_000,
    )
    const metrics = await eventuallyPasses(async () => {
      const text = (await get(metricsUrl as string)).body
      expect(text).toMatch(/shipshape_monitor_notifications_total\{channel="webhook",outcome="failed"\} [12]/)
      expect(text).toMatch(/shipshape_monitor_uptime_ratio\{check="home",window="24h"\} 1/)
      return text
    }, 30_000)
    expect(metrics).toMatch(/shipshape_monitor_notifications_total\{channel="smtp",outcome="sent"\} [12]/)

    // A silence from the CLI: the site goes down and nobody hears of it, until the silence ends.
    const env = { ...process.env, SHIPSHAPE_CONFIG: config }
    const added = await runCli(
      [
        'monitor',
        'silence',
        'add',
        server.url,
        '--match',
        'check=home',
        '--for',
        '1h',
        '--comment',
        'upgrade',
      ],
      { env },
    )
    expect(added.stderr).toBe('')
    const id = /Silence (\S+) added/.exec(added.stdout)?.[1] as string
    expect(id).toBeDefined()
    await sleep(1500) // the primaries read silences every few seconds
    site.up = false
    await sleep(6000)
    expect(subjects().filter((subject) => subject.includes('SiteDown'))).toEqual([])
    const listed = await runCli(['monitor', 'silence', 'list', server.url], { env })
    expect(listed.stdout).toContain(id)
    expect(listed.stdout).toContain('{"check":"home"}')
    const expired = await runCli(['monitor', 'silence', 'expire', server.url, id], { env })
    expect(expired.stdout).toBe(`Silence ${id} expired.\n`)
    // With no pager set up, the page goes to the chat channels (e-mail here).
    await eventuallyPasses(async () => expect(subjects()).toContain('[FIRING:1] SiteDown'), 30_000)

    const status = await get(`${api}/status`)
    expect(status.status).toBe(200)
    const nonce = /nonce-([\w+/=]+)/.exec(String(status.headers['content-security-policy']))?.[1]
    expect(nonce).toBeDefined()
    expect(status.body).toContain(`<style nonce="${nonce}">`)
    expect(status.body).toMatch(/<td>home<\/td><td class="down">down<\/td>/)

    // A check added through the API: validated, probed by the primary within seconds, removable.
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const post = (body: unknown) =>
      fetch(`${api}/checks`, { method: 'POST', headers: auth, body: JSON.stringify(body) })
    expect((await post({ name: 'bad', tcp: 'no-port' })).status).toBe(400)
    expect((await post({ name: 'home', tcp: '127.0.0.1:1' })).status).toBe(409)
    expect(
      (await post({ name: 'port-1', tcp: '127.0.0.1:1', interval: '1s', timeout: '500ms' })).status,
    ).toBe(201)
    await eventuallyPasses(async () => {
      const { checks } = (await (await fetch(`${api}/checks`, { headers: auth })).json()) as {
        checks: { name: string; source: string; latest: { ok: boolean; error?: string }[] }[]
      }
      expect(checks.find((check) => check.name === 'port-1')).toMatchObject({
        source: 'api',
        latest: [{ ok: false, error: expect.stringMatching(/ECONNREFUSED/) }],
      })
    }, 30_000)
    const removed = await fetch(`${api}/checks/port-1`, { method: 'DELETE', headers: auth })
    expect(removed.status).toBe(200)
  }, 150_000)
})
