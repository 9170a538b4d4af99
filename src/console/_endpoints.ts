/**
 * Endpoints: per route p50/p95/p99, throughput, error rate, database time and query count over
 * the chosen window, sortable by any column with plain links; and a route's page with its trend,
 * its slow requests, N+1 loops and slow queries as the APM stored them.
 */
import { type RouteSummary, reports, routeSummaries, trafficSeries } from './_data.js'
import { esc, ms, page, percent, table, when } from './_layout.js'
import { lineChart } from './_svg.js'
import { dayMs, hourMs, type View } from './_view.js'

const columns: [keyof RouteSummary, string][] = [
  ['p50Ms', 'p50'],
  ['p95Ms', 'p95'],
  ['p99Ms', 'p99'],
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

export async function endpointsPage(view: View): Promise<string> {
  const { pool, now, prefix } = view
  const [windowName, span] = windowOf(view)
  const sortKey = (columns.find(([key]) => key === view.query.get('sort'))?.[0] ??
    'p95Ms') as keyof RouteSummary
  const routes = (await routeSummaries(pool, prefix, now - span, now)).sort(
    (a, b) => Number(b[sortKey]) - Number(a[sortKey]),
  )
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
    `<p>Window: ${choices}. Percentiles are of every request in the window (the APM's latency sketches merged: within 5%). The console's own requests are left out.</p>
${table(head, rows, [1, 2, 3, 4, 5, 6, 7, 8, 9])}`,
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
  const own = summary.find((entry) => entry.method === method && entry.route === route)
  const line = (r: (typeof slow)[number]) => [
    when(r.at, now),
    ms(r.ms),
    String(r.count),
    `<code>${esc(r.fingerprint)}</code>`,
    esc(r.callSite ?? '—'),
    `<code>${esc(r.requestId)}</code>${tagList(r.tags)}`,
  ]
  const body = `<p>Last 24 h: ${own ? `${own.requests} requests · p50 ${ms(own.p50Ms)} · p95 ${ms(own.p95Ms)} · p99 ${ms(own.p99Ms)} · errors ${percent(own.errorRate)} · ${own.queries.toFixed(1)} queries, ${ms(own.dbMs)} in the database per request` : 'no requests'}.</p>
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
