/**
 * The deployed lockfile re-checked by a running `shipshape serve` (monitor.auditInterval): its
 * primary runs `shipshape audit` on the lockfile in its working directory against a real local
 * registry answering the bulk advisory endpoint with the recorded response (src/hosting/_test), and
 * an advisory published after the first check raises AdvisoryNew to a real webhook receiver;
 * those already there at the first check do not, and the alert resolves once it no longer matches.
 * Without a database, the re-check (the built module, whose `shipshape audit` is the built CLI)
 * compares with the previous check of its own process.
 */
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { LockfileRecheck } from '../../dist/monitor/_advisories.js'
import { CheckStates } from '../../dist/monitor/_state.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import { bulkAdvisories, startRegistry } from '../hosting/_test/registry.js'
import { httpReceiver } from '../observe/_test/receivers.js'
import { postgresSuite, serveMonitored, token, writeConfig } from './_test/fixtures.js'

const { running, url } = postgresSuite('monitor_advisories')

interface AlertmanagerBody {
  status: string
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[]
}

const { minimist = [], ...before } = bulkAdvisories

/** A deployed project (the npm fixture's lockfile), and a registry that knows every recorded advisory but minimist's, until it is "published". */
async function deployed() {
  const project = mkdtempSync(join(tmpdir(), 'shipshape-monitor-audit-'))
  const fixture = new URL('../hosting/_test/lockfiles/npm/', import.meta.url).pathname
  for (const file of ['package.json', 'package-lock.json'])
    copyFileSync(join(fixture, file), join(project, file))
  const advisories: Record<string, unknown[]> = { ...before }
  const registry = await startRegistry({ advisories })
  running.push(registry)
  return { project, advisories, registry }
}

describe('the deployed lockfile, re-checked by the running server', () => {
  it('without a database, compares each check with this process’s previous one', async () => {
    const { project, advisories, registry } = await deployed()
    // The audit's own settings, read by `shipshape audit` in the deployed directory.
    writeConfig(project, 'shipshape.json', { audit: { registry: registry.url } })
    const states = new CheckStates({ quorum: 1, flapChanges: 4, flapWindowMs: 60_000 }, [], [], Date.now())
    const recheck = new LockfileRecheck({
      cwd: project,
      logger: pino({ level: 'silent' }),
      states,
      store: () => undefined,
    })
    const alerts = () => [...states.alerts(Date.now()).values()].map((alert) => alert.labels)
    await recheck.run()
    expect(alerts()).toEqual([])
    advisories.minimist = minimist
    await recheck.run()
    expect(alerts()).toEqual([
      { alertname: 'AdvisoryNew', severity: 'chat', advisory: '1097678', package: 'minimist' },
    ])
    await recheck.run()
    expect(alerts()).toHaveLength(1)
    delete advisories.minimist
    await recheck.run()
    expect(alerts()).toEqual([])
  }, 60_000)

  it('raises AdvisoryNew for an advisory published after the first check, and resolves it', async () => {
    const { project, advisories, registry } = await deployed()
    const webhook = await httpReceiver()
    running.push(webhook)
    const config = writeConfig(project, 'shipshape.json', {
      monitor: {
        heartbeats: [{ name: 'job', period: '1d' }],
        tokens: [token],
        auditInterval: '2s',
        groupWait: '1s',
        groupInterval: '2s',
        diskFree: 0,
        webhook: webhook.url,
      },
    })
    const server = await serveMonitored(
      config,
      { DATABASE_URL: url(), SHIPSHAPE_AUDIT_REGISTRY: registry.url },
      running,
      project,
    )
    const rechecked = (count: number) =>
      server.waitForLog(
        (line) =>
          line.msg === 'monitor: the deployed lockfile re-checked' &&
          server.logs.filter((other) => other.msg === line.msg).length >= count,
        `re-check ${count}`,
        60_000,
      )
    const first = await rechecked(1)
    expect(first).toMatchObject({ new: 0, lockfile: join(project, 'package-lock.json') })
    expect(Number(first.advisories)).toBeGreaterThan(0)
    await rechecked(2)
    expect(webhook.bodies).toEqual([])
    expect(registry.requests).toContain('POST /-/npm/v1/security/advisories/bulk')

    advisories.minimist = minimist
    const firing = await eventuallyPasses(async () => {
      const body = (webhook.bodies as AlertmanagerBody[]).find((entry) => entry.status === 'firing')
      expect(body).toBeDefined()
      return body as AlertmanagerBody
    }, 60_000)
    expect(firing.alerts.map((alert) => alert.labels)).toEqual([
      { alertname: 'AdvisoryNew', severity: 'chat', advisory: '1097678', package: 'minimist' },
    ])
    expect(firing.alerts[0]?.annotations.summary).toBe(
      'minimist@1.2.5: Prototype Pollution in minimist (critical, https://github.com/advisories/GHSA-xvch-5gv4-984h), fixed in 1.2.6',
    )

    // Withdrawn (or, as a deploy would, upgraded past): the alert resolves.
    delete advisories.minimist
    await eventuallyPasses(async () => {
      expect((webhook.bodies as AlertmanagerBody[]).map((body) => body.status)).toEqual([
        'firing',
        'resolved',
      ])
    }, 60_000)
  }, 150_000)
})
