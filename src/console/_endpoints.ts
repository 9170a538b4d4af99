/**
 * Endpoints: per route p50/p95/p99, its slow-request threshold (marked when the p95 is above it),
 * throughput, error rate, database time and query count over the chosen window, sortable by any
 * column with plain links; and a route's page with its threshold, its trend, its slow requests,
 * N+1 loops and slow queries as the APM stored them.
 */
import { type RouteThresholds, routeThresholdsOf, type Threshold } from '../db/index.js'
import { type RouteSummary, reports, routeSummaries, trafficSeries } from './_data.js'
import { esc, ms, page, percent, table, when } from './_layout.js'
import { lineChart } from './_svg.js'
import { dayMs, hourMs, type View } from './_view.js'

/** A route's figures with its threshold, and how far its p95 is over it (>1: over; sorted by). */
type Row = RouteSummary & { threshold: Threshold; overBy: number }

const columns: [keyof Row, string][] = [
  ['p50Ms', 'p50'],
  ['p95Ms', 'p95'],
  ['p99Ms', 'p99'],
  ['overBy', 'Threshold'],
  ['throughput', 'Req/min'],
  ['errorRate', 'Errors'],
  ['dbMs', 'DB time'],
  ['queries', 'Queries'],
  ['nPlusOnes', 'N+1'],
]
const windows: Record<string, number> = { '1h': hourMs, '24h': dayMs, '7d': 7 * dayMs }

function windowOf(view: View): [string, number] {
  const asked = view.query.get('window') ?? '24h'
  return asked in windows ? [asked, windows[asked] as number] : ['24h', dayMs]
}

export const routeHref = (prefix: string, method: string, route: string) =>
  `${prefix}/endpoints/route?method=${encodeURIComponent(method)}&route=${encodeURIComponent(route)}`

/** `route` with its threshold, as the APM of every worker matches it (the same settings). */
function withThreshold(route: RouteSummary, thresholds: RouteThresholds): Row {
  const threshold = thresholds.of(route.method, route.route)
  const overBy =
    threshold.ms > 0 ? route.p95Ms / threshold.ms : route.p95Ms > 0 ? Number.POSITIVE_INFINITY : 0
  return { ...route, threshold, overBy }
}

/** The mark of a route whose p95 is above its threshold. */
const overMark = (row: Row) =>
  row.p95Ms > row.threshold.ms
    ? ` <span class="tag warn" title="p95 above the route's slow-request threshold">p95 over</span>`
    : ''

export async function endpointsPage(view: View): Promise<string> {
  const { pool, now, prefix } = view
  const [windowName, span] = windowOf(view)
  const sortKey = (columns.find(([key]) => key === view.query.get('sort'))?.[0] ?? 'p95Ms') as keyof Row
  // Matched once per page: the patterns are few, and the routes at most apm.maxRoutes per worker.
  const thresholds = routeThresholdsOf(view.host.apm)
  const routes = (await routeSummaries(pool, prefix, now - span, now))
    .map((route) => withThreshold(route, thresholds))
    .sort((a, b) => Number(b[sortKey]) - Number(a[sortKey]))
  const link = (params: Record<string, string>) =>
    esc(`${prefix}/endpoints?${new URLSearchParams({ window: windowName, sort: sortKey, ...params })}`)
  const head = [
    'Route',
    'Requests',
    ...columns.map(([key, label]) =>
      key === sortKey ? `${label} ▼` : `<a href="${link({ sort: key })}">${label}</a>`,
    ),
  ]
  const rows = routes.map((route) => [
    `<a href="${esc(routeHref(prefix, route.method, route.route))}">${esc(`${route.method} ${route.route}`)}</a>`,
    String(route.requests),
    ms(route.p50Ms),
    ms(route.p95Ms),
    ms(route.p99Ms),
    `${ms(route.threshold.ms)}${overMark(route)}`,
    (route.throughput * 60).toPrecision(2),
    `<span class="${route.errorRate > 0 ? 'bad' : ''}">${percent(route.errorRate)}</span>`,
    ms(route.dbMs),
    route.queries.toFixed(1),
    route.nPlusOnes > 0 ? `<span class="tag bad">${route.nPlusOnes}</span>` : '0',
  ])
  const choices = Object.keys(windows)
    .map((name) =>
      name === windowName ? `<strong>${name}</strong>` : `<a href="${link({ window: name })}">${name}</a>`,
    )
    .join(' · ')
  return page(
    view,
    'Endpoints',
    `<p>Window: ${choices}. Percentiles are of every request in the window (the APM's latency sketches merged: within 5%). The console's own requests are left out. A route's threshold is apm.slowRequest or its apm.routeThresholds entry: its requests that take as long are kept as slow requests; sorting by it puts the routes furthest over it first.</p>
${table(head, rows, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])}`,
  )
}

export async function routePage(view: View): Promise<string | undefined> {
  const method = view.query.get('method')
  const route = view.query.get('route')
  if (!method || !route) return undefined
  const { pool, now, prefix } = view
  const filter = { method, route }
  const [summary, series, slow, loops, queries] = await Promise.all([
    routeSummaries(pool, prefix, now - dayMs, now),
    trafficSeries(pool, prefix, now - 7 * dayMs, hourMs, filter),
    reports(pool, 'slow-request', now - 7 * dayMs, filter),
    reports(pool, 'n+1', now - 7 * dayMs, filter),
    reports(pool, 'slow-query', now - 7 * dayMs, filter),
  ])
  const found = summary.find((entry) => entry.method === method && entry.route === route)
  const thresholds = routeThresholdsOf(view.host.apm)
  const own = found && withThreshold(found, thresholds)
  const threshold = own?.threshold ?? thresholds.of(method, route)
  const from =
    threshold.pattern === undefined
      ? 'apm.slowRequest'
      : `apm.routeThresholds <code>${esc(threshold.pattern)}</code>`
  const line = (r: (typeof slow)[number]) => [
    when(r.at, now),
    ms(r.ms),
    String(r.count),
    `<code>${esc(r.fingerprint)}</code>`,
    esc(r.callSite ?? '—'),
    `<code>${esc(r.requestId)}</code>${tagList(r.tags)}`,
  ]
  const body = `<p>Threshold: ${ms(threshold.ms)} (${from}): a request that takes at least this long is kept below as a slow request.</p>
<p>Last 24 h: ${own ? `${own.requests} requests · p50 ${ms(own.p50Ms)} · p95 ${ms(own.p95Ms)}${overMark(own)} · p99 ${ms(own.p99Ms)} · errors ${percent(own.errorRate)} · ${own.queries.toFixed(1)} queries, ${ms(own.dbMs)} in the database per request` : 'no requests'}.</p>
${lineChart(
  series.map((point) => point.p95Ms),
  'p95 latency per hour, 7 days (ms)',
  { objective: view.host.console.latencyObjectiveMs, format: ms },
)}
<h2>Slow requests</h2>
${table(['When', 'Took', 'Queries', 'Slowest query', '', 'Request id, tags'], slow.map(line), [1, 2])}
<h2>N+1 loops</h2>
${table(['When', 'Took', 'Runs', 'Query', 'Call site', 'Request id, tags'], loops.map(line), [1, 2])}
<h2>Slow queries</h2>
${table(['When', 'Took', '', 'Query', 'Call site', 'Request id, tags'], queries.map(line), [1])}
<p><a href="${esc(`${prefix}/endpoints`)}">All endpoints</a></p>`
  return page({ ...view, current: '/endpoints' }, `${method} ${route}`, body)
}

/** A report's tags under its request id: `tenant:acme plan:pro`. */
function tagList(tags: Record<string, string>): string {
  const pairs = Object.entries(tags).map(
    ([key, value]) => `<span class="tag">${esc(key)}:${esc(value)}</span>`,
  )
  return pairs.length ? `<br>${pairs.join(' ')}` : ''
}
