/**
 * The monitor's HTTP side, served by every worker under /_shipshape/monitor/: agents report their
 * results, jobs ping their heartbeats, operators read the checks and manage silences, and (when
 * turned on) anyone reads the status page. Everything but the status page needs a bearer token
 * from monitor.tokens; a wrong one is a 401 and a log line. What is taken is stored, and the
 * primary of every instance reads it from the database within a second.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto'
import type { Logger } from '../observe/index.js'
import type { Middleware, RequestContext } from '../types.js'
import type { Check } from './_checks.js'
import type { Silence } from './_dispatch.js'
import type { ProbeResult } from './_probe.js'
import type { MonitorOptions } from './_settings.js'
import type { Ping } from './_state.js'
import { historyDays, statusPage } from './_status.js'
import { type DayUptime, MonitorStore, type Uptime } from './_store.js'

export const monitorPrefix = '/_shipshape/monitor/'
/** An agent's batch, a silence: small. A buffered agent sends its backlog in batches under this. */
const maxBodyBytes = 1024 * 1024
const maxResultsPerReport = 5000
/** How long the status page's figures are reused: three aggregate queries over up to 30 days each. */
const statusEveryMs = 5000

export function monitorEndpoint(options: MonitorOptions, logger: Logger): Middleware {
  const tokens = options.tokens.map((token) => Buffer.from(token))
  const checks = new Set(options.checks.map((check) => check.name))
  const heartbeats = new Set(options.heartbeats.map((beat) => beat.name))
  const stores = new WeakMap<object, MonitorStore>()
  let statusData: { at: number; data: Promise<[ProbeResult[], Uptime[], DayUptime[]]> } | undefined
  const storeOf = (ctx: RequestContext) => {
    const pool = ctx.worker.db?.pool
    if (!pool) return undefined
    let store = stores.get(pool)
    if (!store) {
      store = new MonitorStore(pool)
      stores.set(pool, store)
    }
    return store
  }
  const authorised = (ctx: RequestContext, query: URLSearchParams) => {
    const header = ctx.req.headers.authorization
    const given = header?.startsWith('Bearer ') ? header.slice(7) : (query.get('token') ?? '')
    const bytes = Buffer.from(given)
    const ok = tokens.some((token) => token.length === bytes.length && timingSafeEqual(token, bytes))
    if (!ok)
      logger.warn(
        { ip: ctx.clientIp, path: ctx.path, requestId: ctx.id },
        'monitor: refused a request with a missing or wrong token',
      )
    return ok
  }

  return async function monitorApi(ctx: RequestContext, next): Promise<void> {
    if (!ctx.path.startsWith(monitorPrefix)) return next()
    const route = ctx.path.slice(monitorPrefix.length).split('/')
    const query = new URLSearchParams((ctx.req.url ?? '').split('?')[1] ?? '')
    const store = storeOf(ctx)
    if (route[0] === 'status' && ctx.method === 'GET') {
      if (!options.statusPage)
        return json(ctx, 404, { detail: 'the status page is off (monitor.status-page)' })
      if (!store) return json(ctx, 503, { detail: 'the status page needs the database' })
      const now = Date.now()
      // The page is public: its figures are read at most every few seconds, however often it is asked for.
      if (statusData === undefined || now - statusData.at >= statusEveryMs) {
        const data = Promise.all([store.latest(), store.uptime(now), store.history(now, historyDays)])
        statusData = { at: now, data }
        data.catch(() => {
          statusData = undefined
        })
      }
      const [latest, uptime, history] = await statusData.data
      const nonce = String(ctx.state.cspNonce ?? '')
      ctx.res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(statusPage(options.checks, latest, uptime, history, nonce, now))
      return
    }
    if (!authorised(ctx, query)) return json(ctx, 401, { detail: 'a valid monitor token is needed' })
    if (!store)
      return json(ctx, 503, { detail: 'the monitor needs the database (DATABASE_URL or the embedded one)' })
    const [resource, id, extra] = route
    if (resource === 'report' && ctx.method === 'POST') {
      const body = await readJson(ctx)
      const known = new Set([...checks, ...(await store.apiChecks()).map((check) => check.name)])
      const results = validReport(body, known)
      if (typeof results === 'string') return json(ctx, 400, { detail: results })
      await store.addResults(results, `agent:${results[0]?.vantage ?? ''}`)
      return json(ctx, 200, { accepted: results.length })
    }
    if (resource === 'ping' && id !== undefined && (ctx.method === 'POST' || ctx.method === 'GET')) {
      if (!heartbeats.has(id)) return json(ctx, 404, { detail: `no heartbeat named ${id}` })
      const ping = pingOf(id, extra)
      if (!ping)
        return json(ctx, 400, { detail: 'ping /<name>, /<name>/start, /<name>/fail or /<name>/<exit code>' })
      await store.addPing(ping)
      return json(ctx, 200, { ok: true })
    }
    if (resource === 'checks' && ctx.method === 'POST' && id === undefined) {
      // zod loads here, on the first check added, never in a worker that only serves.
      const { checkSchema, checksOf } = await import('./_checks.js')
      const parsed = checkSchema.safeParse(await readJson(ctx))
      if (!parsed.success)
        return json(ctx, 400, {
          detail: parsed.error.issues
            .map((issue) => `${issue.path.join('.') || 'check'}: ${issue.message}`)
            .join('; '),
        })
      if (checks.has(parsed.data.name))
        return json(ctx, 409, {
          detail: `${parsed.data.name} is defined in the config file; change it there`,
        })
      const [check] = checksOf([{ ...parsed.data, site: parsed.data.site ?? false }])
      await store.putCheck(check as Check)
      logger.info({ check: parsed.data.name }, 'monitor: check added through the API')
      return json(ctx, 201, check)
    }
    if (resource === 'checks' && ctx.method === 'DELETE' && id !== undefined) {
      if (checks.has(id))
        return json(ctx, 409, { detail: `${id} is defined in the config file; remove it there` })
      const deleted = await store.deleteCheck(id)
      return deleted
        ? json(ctx, 200, { deleted: id })
        : json(ctx, 404, { detail: `no check ${id} added through the API` })
    }
    if (resource === 'checks' && ctx.method === 'GET') {
      const [latest, uptime, added] = await Promise.all([
        store.latest(),
        store.uptime(Date.now()),
        store.apiChecks(),
      ])
      return json(ctx, 200, {
        checks: [...options.checks, ...added].map((check) => ({
          name: check.name,
          kind: check.kind,
          target: check.target,
          site: check.site,
          source: checks.has(check.name) ? 'config' : 'api',
          latest: latest.filter((result) => result.check === check.name),
          uptime: uptime.find((entry) => entry.check === check.name) ?? null,
        })),
        heartbeats: options.heartbeats.map((beat) => beat.name),
      })
    }
    if (resource === 'silences') {
      if (ctx.method === 'GET' && id === undefined)
        return json(ctx, 200, { silences: await store.silences(Date.now()) })
      if (ctx.method === 'POST' && id === undefined) {
        const silence = validSilence(await readJson(ctx))
        if (typeof silence === 'string') return json(ctx, 400, { detail: silence })
        await store.addSilence(silence)
        logger.info({ silence }, 'monitor: silence added')
        return json(ctx, 201, silence)
      }
      if (ctx.method === 'DELETE' && id !== undefined) {
        const ended = await store.expireSilence(id, Date.now())
        return ended
          ? json(ctx, 200, { expired: id })
          : json(ctx, 404, { detail: `no running silence ${id}` })
      }
    }
    return json(ctx, 404, { detail: 'unknown monitor endpoint: see docs/monitor.md' })
  }
}

function json(ctx: RequestContext, status: number, body: unknown): void {
  ctx.res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body))
}

async function readJson(ctx: RequestContext): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBodyBytes) return undefined
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return undefined
  }
}

/** An agent's report: `{ results: ProbeResult[] }`, one vantage point, known checks only; else why not. */
function validReport(body: unknown, checks: ReadonlySet<string>): ProbeResult[] | string {
  const results = (body as { results?: unknown } | undefined)?.results
  if (!Array.isArray(results)) return 'a JSON body { results: [...] } (at most 1 MiB)'
  if (results.length > maxResultsPerReport) return `at most ${maxResultsPerReport} results per report`
  const out: ProbeResult[] = []
  for (const result of results as Record<string, unknown>[]) {
    const { check, vantage, at, ok, ms, error, certExpiresAt } = result ?? {}
    if (typeof check !== 'string' || !checks.has(check)) return `unknown check ${JSON.stringify(check)}`
    if (typeof vantage !== 'string' || !/^[\w.:-]{1,64}$/.test(vantage))
      return 'a vantage name of letters, digits, . : - _'
    if (typeof at !== 'number' || typeof ok !== 'boolean' || typeof ms !== 'number' || ms < 0)
      return 'each result with at (ms since the epoch), ok (boolean) and ms (number)'
    out.push({
      check,
      vantage,
      at,
      ok,
      ms,
      ...(typeof error === 'string' ? { error: error.slice(0, 500) } : {}),
      ...(typeof certExpiresAt === 'number' ? { certExpiresAt } : {}),
    })
  }
  if (new Set(out.map((result) => result.vantage)).size > 1) return 'one vantage point per report'
  return out
}

function pingOf(heartbeat: string, kind: string | undefined): Ping | undefined {
  const at = Date.now()
  if (kind === undefined || kind === '') return { heartbeat, kind: 'success', at }
  if (kind === 'start') return { heartbeat, kind: 'start', at }
  if (kind === 'fail') return { heartbeat, kind: 'fail', at }
  if (!/^\d{1,3}$/.test(kind)) return undefined
  const exitCode = Number(kind)
  return exitCode === 0 ? { heartbeat, kind: 'success', at } : { heartbeat, kind: 'fail', at, exitCode }
}

/** `{ match, for: '2h' | ms, comment?, untilResolved? }` or `{ match, from?, until }` as ISO dates. */
function validSilence(body: unknown): Silence | string {
  const input = body as Record<string, unknown> | undefined
  const match = input?.match
  if (!match || typeof match !== 'object' || Object.keys(match).length === 0)
    return 'a match of labels, such as { "check": "api" } or { "alertname": "SiteDown" }'
  if (Object.values(match).some((value) => typeof value !== 'string')) return 'match values as strings'
  const from = input.from === undefined ? Date.now() : Date.parse(String(input.from))
  const untilResolved = input.untilResolved === true
  const until =
    input.until !== undefined
      ? Date.parse(String(input.until))
      : typeof input.forMs === 'number'
        ? from + input.forMs
        : untilResolved
          ? Number.POSITIVE_INFINITY
          : Number.NaN
  if (Number.isNaN(from) || Number.isNaN(until) || until <= from)
    return 'an end: until (an ISO date after from), forMs (milliseconds), or untilResolved: true'
  return {
    id: randomUUID(),
    match: match as Record<string, string>,
    from,
    until,
    comment: typeof input.comment === 'string' ? input.comment.slice(0, 500) : '',
    ...(untilResolved ? { untilResolved } : {}),
  }
}
