/**
 * The monitor settings group: the checks and heartbeats (as code, in the config file), how alerts
 * are grouped, repeated, silenced and routed, and the channels; and the options they become for
 * `shipshape serve` (its primary probes, its workers take agents' reports and pings) and for
 * `shipshape monitor` (the agent). See docs/monitor.md.
 */
import { hostname } from 'node:os'
import { z } from 'zod'
import { duration, group, type Infer, setting } from '../config/index.js'
import { type BurnWindow, workbookWindows } from './_burn.js'
import {
  type Check,
  checkSchema,
  checksOf,
  type Heartbeat,
  heartbeatSchema,
  heartbeatsOf,
  maintenanceOf,
  maintenanceSchema,
  routeSchema,
  silenceSchema,
} from './_checks.js'
import type { Maintenance } from './_maintenance.js'

export type Channel = 'pagerduty' | 'webhook' | 'slack' | 'email'
const channel = z.enum(['pagerduty', 'webhook', 'slack', 'email'])

export const monitorSettings = group(
  {
    checks: setting(z.array(checkSchema), {
      default: [],
      shownDefault: 'none',
      description:
        'The uptime checks, each a mapping: name, one target (url: for HTTP(S), tcp: host:port, tls: host:port for the certificate only, dns: host), and optionally interval (60s), timeout (10s), failures (3) and successes (2) to change state, expect (status, keyword, notKeyword, json: { path, equals }, maxResponseTime, record for DNS), recordType (A) and resolver (host:port) for DNS, latency (a response-time alert), certExpiry (14d), site, severity, labels. The server probes them from its primary process; agents (`shipshape monitor`) probe the same list from elsewhere.',
      example: [{ name: 'home', url: 'https://example.com/', expect: { keyword: 'Welcome' } }],
    }),
    heartbeats: setting(z.array(heartbeatSchema), {
      default: [],
      shownDefault: 'none',
      description:
        'Jobs that ping the app (POST /_shipshape/monitor/ping/<name>, …/start, …/fail, …/<exit code>): name, period (how often it runs), grace (5m: how late it may be), severity (chat), labels. A job that does not succeed within period + grace is alerted on.',
      example: [{ name: 'nightly-backup', period: '1d', grace: '1h' }],
    }),
    tokens: setting(z.array(z.string().min(16, { error: 'tokens of 16 characters or more' })), {
      default: [],
      secret: true,
      shownDefault: 'none: no agent, ping or API access',
      description:
        'Bearer tokens accepted from agents, heartbeat pings and the monitor API (Authorization: Bearer <token>, or ?token= for pings). A wrong token is refused with 401 and logged.',
      example: ['a-long-random-token-0123456789'],
    }),
    vantage: setting(z.string().regex(/^[\w.:-]{1,64}$/), {
      default: () => `server-${hostname()}`,
      shownDefault: 'server-<host name>',
      description:
        "This server's name as a vantage point, in results and alerts. Agents name themselves with --vantage.",
    }),
    quorum: setting(z.int().min(1), {
      default: 2,
      description:
        'Vantage points (the server, each agent) that must see the site check down before the site counts as down and someone is paged; one agent with a bad network pages nobody. Capped at the number of vantage points reporting, so a server without agents pages on its own view.',
    }),
    groupWait: setting(duration(), {
      default: '30s',
      description:
        'How long a new group of alerts waits before its first notification, so that alerts failing together arrive as one (Alertmanager’s group_wait).',
    }),
    groupInterval: setting(duration(), {
      default: '5m',
      description:
        'How long a group waits before notifying about alerts added to it or resolved in it (group_interval).',
    }),
    repeatInterval: setting(duration(), {
      default: '4h',
      description: 'How long a group that has not changed waits before notifying again (repeat_interval).',
    }),
    sendResolved: setting(z.boolean(), {
      default: true,
      description: 'Notify when a group’s alerts are over.',
    }),
    flapChanges: setting(z.int().min(2), {
      default: 4,
      description:
        'A check that changes state this many times within flapWindow is flapping: it is held in its alerting state (one notification) until it has been steady for a whole window.',
    }),
    flapWindow: setting(duration(), {
      default: '30m',
      description: 'The window flapChanges counts in.',
    }),
    silences: setting(z.array(silenceSchema), {
      default: [],
      shownDefault: 'none',
      description:
        'One-off silences: alerts whose labels match (alertname, check, severity, vantage, your own) are not notified between from and until. Silences can also be added through the API and `shipshape monitor silence`; recurring windows go in maintenance.',
      example: [
        {
          match: { check: 'api' },
          from: '2026-01-31T22:00:00Z',
          until: '2026-01-31T23:00:00Z',
          comment: 'db upgrade',
        },
      ],
    }),
    maintenance: setting(z.array(maintenanceSchema), {
      default: [],
      shownDefault: 'none',
      description:
        'Recurring maintenance windows: alerts whose labels match are not notified while one runs. Each: match, start (local HH:MM), duration, days (mon … sun; every day when left out), timeZone (an IANA name; UTC), comment. A window may run past midnight; on the night the zone changes its clocks it runs an hour longer or shorter.',
      example: [
        {
          match: { check: 'api' },
          days: ['sun'],
          start: '02:00',
          duration: '2h',
          timeZone: 'Europe/Paris',
          comment: 'weekly database maintenance',
        },
      ],
    }),
    routes: setting(z.array(routeSchema), {
      default: [],
      shownDefault: 'none: by severity',
      description:
        'Routes by label, the first match wins: { match: { team: db }, channels: [email] }. Alerts no route matches go by severity: page-channels or chat-channels.',
    }),
    pageChannels: setting(z.array(channel), {
      default: ['pagerduty', 'webhook'],
      description:
        'Where page-level alerts go (the site down, a fast error-budget burn). When none of them is configured, pages go to the chat channels: an alert is never dropped for want of a pager.',
    }),
    chatChannels: setting(z.array(channel), {
      default: ['slack', 'email', 'webhook'],
      description:
        'Where every other alert goes. Slack and e-mail are observe’s notify-slack and notify-email (with smtp-url).',
    }),
    pagerdutyKey: setting(z.string().min(8), {
      secret: true,
      shownDefault: 'none',
      description:
        'A PagerDuty Events v2 integration (routing) key: pages trigger and resolve incidents with a stable dedup_key per alert.',
    }),
    pagerdutyUrl: setting(z.url({ protocol: /^https?$/ }), {
      default: 'https://events.pagerduty.com/v2/enqueue',
      description: 'The Events v2 endpoint (a proxy or a test receiver may stand in for it).',
    }),
    webhook: setting(z.url({ protocol: /^https?$/ }), {
      secret: true,
      shownDefault: 'none',
      description:
        'A URL that receives Alertmanager’s webhook payload (version 4), so receivers written for Alertmanager work unchanged.',
      example: 'https://hooks.example.com/alerts',
    }),
    objective: setting(z.number().gt(0).lt(100), {
      default: 99.9,
      description:
        'The availability objective in percent of requests answered without a 5xx. Error-budget burn is judged against it (see burnWindows).',
    }),
    burnWindows: setting(
      z
        .array(
          z
            .object({
              severity: z.enum(['page', 'chat']),
              factor: z.number().positive(),
              long: duration(),
              short: duration(),
            })
            .strict(),
        )
        .min(1),
      {
        default: workbookWindows.map((window) => ({ ...window })),
        shownDefault: 'page 14.4× over 1h and 5m, page 6× over 6h and 30m, chat 1× over 3d and 6h',
        description:
          'The error-budget burn alerts: each fires when the burn rate (the 5xx ratio over the budget, 1 − objective) is at least its factor over both its long and its short window, counted over every instance sharing the database. The counters are sampled every tenth of the shortest window (1 s to 30 s). Shorter windows page sooner on less evidence.',
        example: [{ severity: 'page', factor: 14.4, long: '1h', short: '5m' }],
      },
    ),
    diskFree: setting(z.number().min(0).max(100), {
      default: 10,
      description:
        'Alert when the filesystem of the data directory (or media root) has less than this percentage free; 0 turns it off.',
    }),
    retention: setting(duration(), {
      default: '30d',
      description: 'Probe results older than this are deleted (uptime is reported over 30 days at most).',
    }),
    auditInterval: setting(duration(), {
      default: '1d',
      description:
        'How often the running server re-checks its deployed lockfile (the one in its working directory) against the registry’s advisories, with `shipshape audit` in a child process and the audit settings that command reads; an advisory that matches now and did not at the previous check raises a chat-level AdvisoryNew alert. 0 turns it off. Each run asks the registry once for the advisories of every locked version (and for the packuments not yet cached), in a child process of its own.',
    }),
    statusPage: setting(z.boolean(), {
      default: false,
      description:
        'Serve a public, read-only status page at /_shipshape/monitor/status: each check’s state, its uptime over 24 h, 7 d and 30 d, and one bar for each of its last 30 days. Off by default: it tells the world your internal endpoints.',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_MONITOR_',
    description: 'Uptime checks, heartbeats and alerting. See [monitor.md](monitor.md).',
    checks: [
      {
        uses: ['checks', 'heartbeats'],
        problems: ({ checks, heartbeats }) => {
          const names = [...checks, ...heartbeats].map((item) => item.name)
          const twice = names.filter((item, index) => names.indexOf(item) !== index)
          return twice.length === 0
            ? []
            : [
                {
                  key: 'checks',
                  expected: `names used once among checks and heartbeats (${twice.join(', ')} twice)`,
                },
              ]
        },
      },
    ],
  },
)

export type MonitorSettings = Infer<typeof monitorSettings.shape>

/** What the monitor settings become (plain values: sent to workers as JSON). */
export interface MonitorOptions {
  checks: Check[]
  heartbeats: Heartbeat[]
  tokens: string[]
  vantage: string
  quorum: number
  groupWaitMs: number
  groupIntervalMs: number
  repeatIntervalMs: number
  sendResolved: boolean
  flapChanges: number
  flapWindowMs: number
  silences: { match: Record<string, string>; from: number; until: number; comment: string }[]
  maintenance: Maintenance[]
  routes: { match: Record<string, string>; channels: Channel[] }[]
  pageChannels: Channel[]
  chatChannels: Channel[]
  pagerduty: { key: string; url: string } | undefined
  webhook: string | undefined
  objective: number
  burnWindows: BurnWindow[]
  diskFreePercent: number
  retentionMs: number
  auditIntervalMs: number
  statusPage: boolean
}

export function monitorOptions(settings: MonitorSettings): { monitor: MonitorOptions } {
  return {
    monitor: {
      checks: checksOf(settings.checks),
      heartbeats: heartbeatsOf(settings.heartbeats),
      tokens: [...settings.tokens],
      vantage: settings.vantage,
      quorum: settings.quorum,
      groupWaitMs: settings.groupWait,
      groupIntervalMs: settings.groupInterval,
      repeatIntervalMs: settings.repeatInterval,
      sendResolved: settings.sendResolved,
      flapChanges: settings.flapChanges,
      flapWindowMs: settings.flapWindow,
      silences: settings.silences.map((silence) => ({
        match: { ...silence.match },
        from: Date.parse(silence.from),
        until: Date.parse(silence.until),
        comment: silence.comment,
      })),
      maintenance: settings.maintenance.map(maintenanceOf),
      routes: settings.routes.map((route) => ({ match: { ...route.match }, channels: [...route.channels] })),
      pageChannels: [...settings.pageChannels],
      chatChannels: [...settings.chatChannels],
      pagerduty: settings.pagerdutyKey
        ? { key: settings.pagerdutyKey, url: settings.pagerdutyUrl }
        : undefined,
      webhook: settings.webhook,
      // Rounded: 99.9 / 100 is 0.9990000000000001 in floating point.
      objective: Number((settings.objective / 100).toFixed(10)),
      burnWindows: settings.burnWindows.map((window) => ({
        severity: window.severity,
        factor: window.factor,
        longMs: window.long,
        shortMs: window.short,
      })),
      diskFreePercent: settings.diskFree,
      retentionMs: settings.retention,
      auditIntervalMs: settings.auditInterval,
      statusPage: settings.statusPage,
    },
  }
}
