/**
 * The monitor as `shipshape serve`'s primary runs it: probes each check on its interval, stores
 * the results, reads what the other instances, the agents and the heartbeats stored, feeds the
 * alert logic every second and sends what it decides. Everything is asynchronous and bounded
 * (each probe by its timeout, each query by the pool's timeouts); a run still going when its next
 * one is due is skipped, never stacked, so the primary's loop stays free for the watchdog.
 */
import { randomUUID } from 'node:crypto'
import type { Database, DatabaseOptions } from '../db/index.js'
import {
  type DeliveryCounts,
  deliver,
  type Logger,
  type Notifier,
  sampleMachine,
  slackNotifier,
  smtpNotifier,
} from '../observe/index.js'
import { LockfileRecheck } from './_advisories.js'
import { BurnRate, lengthLabel, type RequestCounts, sampleEveryMs } from './_burn.js'
import { alertmanagerNotifier, notificationOf, pagerdutyNotifier } from './_channels.js'
import type { Check } from './_checks.js'
import { type Dispatch, Dispatcher } from './_dispatch.js'
import { renderMetrics } from './_metrics.js'
import { probe } from './_probe.js'
import type { Channel, MonitorOptions } from './_settings.js'
import { CheckStates } from './_state.js'
import { MonitorStore, type Uptime } from './_store.js'
import { resolveUrl } from './_url.js'

export interface MonitorHost {
  monitor: MonitorOptions
  /** observe's channels, shared: the same Slack webhook and e-mail addresses as error notifications. */
  observe: { email: { url: string; from: string; to: string[] } | undefined; slack: string | undefined }
  database: DatabaseOptions
  logger: Logger
  /** The request counters the primary sums from its workers, for the error budget. */
  requestTotals(): { total: number; errors: number }
  /** Directories whose filesystem's free space is watched, by purpose. */
  dirs: Readonly<Record<string, string>>
  /** How the app is reached, for links in notifications. */
  externalUrl: string
  /** How this server reaches itself, for checks of its own pages (a URL that is a path). */
  selfUrl: string
}

/** How often other instances' and agents' results, pings and silences are read. */
const tickMs = 1000
/** How often alerts are decided: a notification leaves at most this late after its group_wait. */
const decideMs = 250
const uptimeEveryMs = 60_000
const diskEveryMs = 60_000
const pruneEveryMs = 3_600_000

export class MonitorRunner {
  private readonly states: CheckStates
  private readonly dispatcher: Dispatcher
  private readonly burn: BurnRate
  private readonly source = randomUUID()
  /** The config file's checks, resolved, and then those added through the API. */
  private readonly configChecks: Check[]
  private checks: Check[]
  /** Stops each check's probing, by name. */
  private readonly probing = new Map<string, () => void>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly counts: DeliveryCounts = { sent: {}, failed: {} }
  private readonly chat: Partial<Record<Channel, Notifier>> = {}
  private database: Database | undefined
  private store: MonitorStore | undefined
  private cursors: { results: number; pings: number } | undefined
  private uptimes: Uptime[] = []
  private stopped = false
  private ticks = 0

  constructor(private readonly host: MonitorHost) {
    const { monitor, observe } = host
    this.configChecks = monitor.checks.map((check) => this.resolved(check))
    this.checks = this.configChecks
    const now = Date.now()
    this.states = new CheckStates(monitor, monitor.checks, monitor.heartbeats, now)
    const configured = new Set<Channel>()
    if (monitor.pagerduty) configured.add('pagerduty')
    if (monitor.webhook) configured.add('webhook')
    if (observe.slack) {
      configured.add('slack')
      this.chat.slack = slackNotifier(observe.slack)
    }
    if (observe.email) {
      configured.add('email')
      this.chat.email = smtpNotifier(observe.email)
    }
    this.dispatcher = new Dispatcher({ ...monitor, configured })
    this.dispatcher.setSilences(this.configSilences())
    this.burn = new BurnRate(monitor.objective, monitor.burnWindows)
  }

  async start(): Promise<void> {
    const { database, logger, monitor } = this.host
    if (database.url !== '' || database.embedded) {
      const { openDatabase } = await import('../db/index.js')
      // Two connections: the primary's queries are few and small.
      this.database = openDatabase({ ...database, poolSize: 2 }, logger)
      this.store = new MonitorStore(this.database.pool)
      await this.catchUp()
    }
    for (const check of this.checks) this.schedule(check)
    this.every(tickMs, tickMs, () => this.readOthers())
    this.every(decideMs, decideMs, () => this.decide())
    this.every(0, sampleEveryMs(monitor.burnWindows), () => this.sampleRequests())
    this.every(0, diskEveryMs, () => this.checkDisks())
    this.every(5000, uptimeEveryMs, () => this.refreshUptime())
    // Request samples are kept a little longer than the longest burn window needs.
    const requestsMs = Math.max(...this.burn.lengths()) + 2 * sampleEveryMs(monitor.burnWindows)
    this.every(pruneEveryMs, pruneEveryMs, () =>
      this.store?.prune(Date.now(), monitor.retentionMs, requestsMs),
    )
    if (monitor.auditIntervalMs > 0) {
      const recheck = new LockfileRecheck({
        cwd: process.cwd(),
        logger,
        states: this.states,
        store: () => this.store,
      })
      // The first check 10 minutes after start (sooner with a shorter interval): a deploy's first
      // minutes are busy enough, and a server started for a moment (a test, a one-off) never asks.
      this.every(Math.min(monitor.auditIntervalMs, 600_000), monitor.auditIntervalMs, () => recheck.run())
    }
    logger.info(
      { checks: monitor.checks.length, heartbeats: monitor.heartbeats.length, vantage: monitor.vantage },
      'monitor started',
    )
  }

  private resolved(check: Check): Check {
    return check.kind === 'http' ? { ...check, target: resolveUrl(check.target, this.host.selfUrl) } : check
  }

  private schedule(check: Check): void {
    // Spread over the first second, so checks defined together do not all connect at once.
    const first = Math.random() * Math.min(1000, check.intervalMs)
    this.probing.set(
      check.name,
      this.every(first, check.intervalMs, () => this.probe(check.name)),
    )
  }

  /** Takes the checks added or removed through the API since the last read. */
  private applyApiChecks(added: readonly Check[]): void {
    const configured = new Set(this.configChecks.map((check) => check.name))
    const wanted = [
      ...this.configChecks,
      ...added.filter((check) => !configured.has(check.name)).map((check) => this.resolved(check)),
    ]
    const same = (a: Check | undefined, b: Check) =>
      a !== undefined && JSON.stringify(a) === JSON.stringify(b)
    for (const check of this.checks) {
      if (wanted.some((candidate) => same(check, candidate))) continue
      this.probing.get(check.name)?.()
      this.probing.delete(check.name)
    }
    for (const check of wanted) if (!this.probing.has(check.name)) this.schedule(check)
    this.checks = wanted
    this.states.setChecks(wanted)
  }

  /** Where reading starts: the newest stored results; the heartbeats' last pings are taken as they are. */
  private async catchUp(): Promise<void> {
    try {
      this.cursors = await (this.store as MonitorStore).cursors()
      for (const ping of await (this.store as MonitorStore).lastPings()) this.states.ping(ping)
    } catch (error) {
      this.host.logger.warn(
        { err: error },
        'monitor: the database cannot be read yet; results stay in memory until it can',
      )
    }
  }

  /** Runs `task` after `firstMs`, then every `everyMs` from each start; a run still going skips the next. */
  /** Returns what stops it. */
  private every(firstMs: number, everyMs: number, task: () => Promise<unknown> | undefined): () => void {
    let running = false
    let cancelled = false
    let pending: NodeJS.Timeout | undefined
    const schedule = (ms: number) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        run()
      }, ms)
      timer.unref()
      this.timers.add(timer)
      pending = timer
    }
    const run = () => {
      if (this.stopped || cancelled) return
      schedule(everyMs)
      if (running) return
      running = true
      Promise.resolve()
        .then(task)
        .catch((error: unknown) => this.host.logger.warn({ err: error }, 'monitor task failed'))
        .finally(() => {
          running = false
        })
    }
    schedule(firstMs)
    return () => {
      cancelled = true
      clearTimeout(pending)
    }
  }

  private async probe(name: string): Promise<void> {
    const check = this.checks.find((candidate) => candidate.name === name)
    if (!check) return
    const result = await probe(check, this.host.monitor.vantage)
    this.states.record(result)
    if (!result.ok)
      this.host.logger.debug({ check: name, error: result.error, ms: result.ms }, 'probe failed')
    await this.store?.addResults([result], this.source).catch((error: unknown) => {
      this.host.logger.warn({ err: error, check: name }, 'monitor: a probe result could not be stored')
    })
  }

  /** Decides on the alerts firing now and sends what is due: often, so group_wait ends on time. */
  private async decide(): Promise<void> {
    const now = Date.now()
    const { dispatches, expired } = this.dispatcher.tick(this.states.alerts(now), now)
    for (const id of expired) await this.store?.expireSilence(id, now)
    // Not awaited: a channel retrying with backoff (seconds) must not hold back the next decision.
    for (const dispatch of dispatches)
      this.send(dispatch, now).catch((error: unknown) =>
        this.host.logger.error(
          { err: error, group: dispatch.groupKey },
          'monitor: a notification could not be sent',
        ),
      )
  }

  /**
   * Samples the request counters and raises or clears each burn window's alert. With a database
   * the counts are the whole site's (every instance's samples); each instance judges the same
   * counts, and the claim on the notification sends it once.
   */
  private async sampleRequests(): Promise<void> {
    const now = Date.now()
    const sample = { at: now, ...this.host.requestTotals() }
    let countsOver = (ms: number): RequestCounts => this.burn.counts(ms, now)
    if (this.store) {
      await this.store.addRequestSample(this.source, sample)
      const site = await this.store.requestCounts(now, this.burn.lengths())
      countsOver = (ms) => site.get(ms) ?? { total: 0, errors: 0 }
    } else this.burn.add(sample)
    const burning = this.burn.burning(now, countsOver)
    for (const window of this.burn.windows) {
      const burn = burning.find((entry) => entry.window === window)
      const labels = {
        alertname: 'ErrorBudgetBurn',
        severity: window.severity,
        window: lengthLabel(window.longMs),
      }
      const summary = burn
        ? `the error budget burns at ${burn.long.toFixed(1)}× over ${lengthLabel(window.longMs)} and ${burn.short.toFixed(1)}× over ${lengthLabel(window.shortMs)} (threshold ${window.factor}×)`
        : ''
      this.states.condition({ labels, summary }, burn !== undefined, now)
    }
  }

  /** Results the others stored (instances, agents), pings, and silences from the database. */
  private async readOthers(): Promise<void> {
    const store = this.store
    if (!store) return
    if (this.cursors === undefined) await this.catchUp()
    if (this.cursors === undefined) return
    const results = await store.resultsAfter(this.cursors.results, this.source)
    for (const result of results.results) this.states.record(result)
    const pings = await store.pingsAfter(this.cursors.pings)
    for (const ping of pings.pings) this.states.ping(ping)
    this.cursors = { results: results.cursor, pings: pings.cursor }
    if (this.ticks++ % 5 === 0) {
      this.dispatcher.setSilences([...this.configSilences(), ...(await store.silences(Date.now()))])
      this.applyApiChecks(await store.apiChecks())
    }
  }

  private configSilences() {
    return this.host.monitor.silences.map((silence, index) => ({ ...silence, id: `config-${index}` }))
  }

  /** Claims the notification (one instance sends it), then sends it to each of its channels. */
  private async send(dispatch: Dispatch, now: number): Promise<void> {
    const { monitor, logger, externalUrl } = this.host
    if (this.store) {
      const claimed = await this.store.claim(
        dispatch.groupKey,
        dispatch.hash,
        now,
        monitor.groupIntervalMs,
        monitor.repeatIntervalMs,
      )
      if (!claimed) {
        logger.debug({ group: dispatch.groupKey }, 'monitor: another instance sent this notification')
        return
      }
    }
    if (dispatch.quiet) return
    const notifiers: Notifier[] = []
    for (const channel of dispatch.channels) {
      if (channel === 'pagerduty' && monitor.pagerduty)
        notifiers.push(pagerdutyNotifier(monitor.pagerduty, dispatch, monitor.vantage))
      else if (channel === 'webhook' && monitor.webhook)
        notifiers.push(alertmanagerNotifier(monitor.webhook, dispatch, externalUrl))
      else if (channel === 'slack' || channel === 'email') {
        const notifier = this.chat[channel]
        if (notifier) notifiers.push(notifier)
      }
    }
    logger.info(
      {
        group: dispatch.groupKey,
        status: dispatch.status,
        alerts: dispatch.alerts.length,
        channels: dispatch.channels,
      },
      `monitor notification: ${notificationOf(dispatch).title}`,
    )
    const notification = notificationOf(dispatch)
    const deliveries = await deliver(notifiers, notification, logger, this.counts)
    await this.store
      ?.addNotifications(now, { ...dispatch, title: notification.title }, deliveries)
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'monitor: the notification history could not be written'),
      )
  }

  private async checkDisks(): Promise<void> {
    const threshold = this.host.monitor.diskFreePercent
    if (threshold <= 0) return
    const machine = await sampleMachine(this.host.dirs)
    const now = Date.now()
    for (const disk of machine.disks) {
      const free = disk.sizeBytes > 0 ? (100 * disk.availBytes) / disk.sizeBytes : 100
      this.states.condition(
        {
          labels: { alertname: 'DiskSpaceLow', severity: 'chat', purpose: disk.purpose },
          summary: `the ${disk.purpose} filesystem (${disk.path}) has ${free.toFixed(1)}% free, under ${threshold}%`,
        },
        free < threshold,
        now,
      )
    }
  }

  private async refreshUptime(): Promise<void> {
    if (this.store) this.uptimes = await this.store.uptime(Date.now())
  }

  /** The monitor's metrics, as Prometheus text (OpenMetrics when asked). */
  metrics(openMetrics: boolean): string {
    const now = Date.now()
    return renderMetrics(openMetrics, {
      status: this.states.status(now),
      alerts: [...this.states.alerts(now).values()],
      uptimes: this.uptimes,
      counts: this.counts,
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    await this.database?.close().catch(() => {})
  }
}
