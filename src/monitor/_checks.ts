/**
 * What a check and a heartbeat are, as the config file writes them, and what they become for the
 * probes: plain values only (the options travel to workers and agents as JSON). A malformed check
 * is a config error naming its place (`monitor.checks: 2 (api).expect.status: …`) and the fix.
 */
import { z } from 'zod'
import { duration } from '../config/index.js'
import { type Maintenance, weekdays } from './_maintenance.js'
import { resolveUrl } from './_url.js'

/** Gatus's defaults: a probe a minute, 10 s to answer, 3 failures to alert, 2 successes to resolve. */
const checkDefaults = { intervalMs: 60_000, timeoutMs: 10_000, failures: 3, successes: 2 } as const

const hostPort = z
  .string()
  .regex(/^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, { error: 'host:port, such as db.internal:5432' })
const labels = z.record(z.string().regex(/^[a-zA-Z_]\w*$/), z.string(), {
  error: 'labels as name: value, such as { team: web }',
})
const severities = ['page', 'chat'] as const
const name = z
  .string()
  .regex(/^[\w.-]{1,64}$/, { error: 'a name of letters, digits, - _ . (at most 64), such as home-page' })

const expectSchema = z
  .object({
    status: z
      .array(z.int({ error: 'an HTTP status code as a number, such as 200' }).min(100).max(599), {
        error: 'a list of HTTP status codes, such as [200, 204]',
      })
      .optional(),
    keyword: z.string().min(1).optional(),
    notKeyword: z.string().min(1).optional(),
    json: z
      .object({
        path: z.string().regex(/^\$(?:\.[\w-]+|\[\d+\])*$/, {
          error: 'a JSON path such as $.status or $.items[0].state',
        }),
        equals: z.union([z.string(), z.number(), z.boolean()]),
      })
      .strict()
      .optional(),
    maxResponseTime: duration().optional(),
    /** For DNS checks: an answer that must be among the records. */
    record: z.string().min(1).optional(),
  })
  .strict()

export const checkSchema = z
  .object({
    name,
    /** A path (`/`, `/api/health`) is the app's own page: the server probes itself, an agent the app it reports to. */
    url: z
      .union([z.url({ protocol: /^https?$/ }), z.string().regex(/^\/(?!\/)\S*$/)], {
        error: 'an http:// or https:// URL, or a path of the app such as /healthz',
      })
      .optional(),
    tcp: hostPort.optional(),
    tls: hostPort.optional(),
    dns: z
      .string()
      .regex(/^[\w.-]+$/, { error: 'a host name, such as example.com' })
      .optional(),
    recordType: z.enum(['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS']).default('A'),
    /** For DNS checks: the server asked (host:port), instead of the system's resolvers. */
    resolver: hostPort.optional(),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    interval: duration().default(checkDefaults.intervalMs),
    timeout: duration().default(checkDefaults.timeoutMs),
    failures: z.int().min(1).default(checkDefaults.failures),
    successes: z.int().min(1).default(checkDefaults.successes),
    expect: expectSchema.default({}),
    /** Response-time alert (not a failure): the check answers, slowly. */
    latency: duration().optional(),
    /** Alert when the certificate (https:, tls:) expires within this long. */
    certExpiry: duration().default(14 * 86_400_000),
    /** The check whose outage is the site's: paged when enough vantage points agree. */
    site: z.boolean().optional(),
    severity: z.enum(severities).optional(),
    labels: labels.default({}),
  })
  .strict()
  .superRefine((check, ctx) => {
    const targets = (['url', 'tcp', 'tls', 'dns'] as const).filter((key) => check[key] !== undefined)
    if (targets.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `exactly one target: url: https://…, tcp: host:port, tls: host:port or dns: host (found ${targets.length === 0 ? 'none' : targets.join(' and ')})`,
      })
    if (check.resolver !== undefined && check.dns === undefined)
      ctx.addIssue({ code: 'custom', path: ['resolver'], message: 'a resolver only for a dns: check' })
    if (check.timeout >= check.interval)
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'a timeout shorter than the interval' })
  })

export const heartbeatSchema = z
  .object({
    name,
    /** How often the job pings when all is well. */
    period: duration(),
    /** How late a ping may be before the job counts as down. */
    grace: duration().default(5 * 60_000),
    severity: z.enum(severities).default('chat'),
    labels: labels.default({}),
  })
  .strict()

export const silenceSchema = z
  .object({
    /** Label equality: { alertname: SiteDown }, { check: api }; every one must match. */
    match: labels,
    from: z.iso.datetime({ offset: true, error: 'an ISO date-time, such as 2026-01-31T22:00:00Z' }),
    until: z.iso.datetime({ offset: true, error: 'an ISO date-time, such as 2026-01-31T23:00:00Z' }),
    comment: z.string().default(''),
  })
  .strict()

/** Whether Intl knows the time zone (an IANA name such as Europe/Paris, or UTC). */
function knownZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
    return true
  } catch {
    return false
  }
}

export const maintenanceSchema = z
  .object({
    match: labels,
    /** Weekdays it starts on; every day when left out. */
    days: z.array(z.enum(weekdays, { error: `a weekday: ${weekdays.join(', ')}` })).default([]),
    start: z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, { error: 'a local time HH:MM, such as 02:00' }),
    duration: duration(),
    timeZone: z
      .string()
      .refine(knownZone, { error: 'an IANA time zone, such as Europe/Paris or UTC' })
      .default('UTC'),
    comment: z.string().default(''),
  })
  .strict()

export function maintenanceOf(definition: z.output<typeof maintenanceSchema>): Maintenance {
  const [hours, minutes] = definition.start.split(':').map(Number)
  return {
    match: { ...definition.match },
    days:
      definition.days.length === 0
        ? [0, 1, 2, 3, 4, 5, 6]
        : definition.days.map((day) => weekdays.indexOf(day)),
    startMinute: (hours as number) * 60 + (minutes as number),
    durationMs: definition.duration,
    timeZone: definition.timeZone,
    comment: definition.comment,
  }
}

export const routeSchema = z
  .object({
    match: labels,
    channels: z.array(z.enum(['pagerduty', 'webhook', 'slack', 'email'])).min(1),
  })
  .strict()

export type CheckInput = z.input<typeof checkSchema>
export type CheckDefinition = z.output<typeof checkSchema>
export type HeartbeatDefinition = z.output<typeof heartbeatSchema>

/** A check as the probes run it. */
export interface Check {
  name: string
  kind: 'http' | 'tcp' | 'tls' | 'dns'
  target: string
  method: 'GET' | 'HEAD' | 'POST'
  headers: Record<string, string>
  recordType: string
  /** The DNS server a dns check asks; the system's when undefined. */
  resolver?: string
  intervalMs: number
  timeoutMs: number
  failures: number
  successes: number
  expect: {
    status?: number[]
    keyword?: string
    notKeyword?: string
    json?: { path: string; equals: string | number | boolean }
    maxResponseMs?: number
    record?: string
  }
  latencyMs?: number
  certExpiryMs: number
  site: boolean
  severity?: 'page' | 'chat'
  labels: Record<string, string>
}

export interface Heartbeat {
  name: string
  periodMs: number
  graceMs: number
  severity: 'page' | 'chat'
  labels: Record<string, string>
}

/**
 * The checks as probes run them; a URL that is a path is resolved against `base` (the app's own
 * address, as the server or the agent reaches it), or kept as it is until that is known. The site check is the one marked `site: true`, or, when none
 * is, the first HTTP check: a site with one health URL needs no extra key.
 */
export function checksOf(definitions: readonly CheckDefinition[], base?: string): Check[] {
  const anySite = definitions.some((check) => check.site === true)
  const firstHttp = definitions.find((check) => check.url !== undefined)
  return definitions.map((definition) => {
    const kind = definition.url ? 'http' : definition.tcp ? 'tcp' : definition.tls ? 'tls' : 'dns'
    const { maxResponseTime, ...expect } = definition.expect
    return {
      name: definition.name,
      kind,
      target: definition.url
        ? resolveUrl(definition.url, base)
        : ((definition.tcp ?? definition.tls ?? definition.dns) as string),
      method: definition.method,
      headers: { ...definition.headers },
      recordType: definition.recordType,
      ...(definition.resolver === undefined ? {} : { resolver: definition.resolver }),
      intervalMs: definition.interval,
      timeoutMs: definition.timeout,
      failures: definition.failures,
      successes: definition.successes,
      expect: { ...expect, ...(maxResponseTime === undefined ? {} : { maxResponseMs: maxResponseTime }) },
      ...(definition.latency === undefined ? {} : { latencyMs: definition.latency }),
      certExpiryMs: definition.certExpiry,
      site: anySite ? definition.site === true : definition === firstHttp,
      ...(definition.severity ? { severity: definition.severity } : {}),
      labels: { ...definition.labels },
    }
  })
}

export function heartbeatsOf(definitions: readonly HeartbeatDefinition[]): Heartbeat[] {
  return definitions.map((beat) => ({
    name: beat.name,
    periodMs: beat.period,
    graceMs: beat.grace,
    severity: beat.severity,
    labels: { ...beat.labels },
  }))
}
