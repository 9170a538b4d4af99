/**
 * The pipeline's metrics, as plain numbers: RED per route (requests and their durations by
 * method, route and status), timeouts, requests in flight and WebSockets. Nothing here loads prom-client: a
 * `shipshape serve` worker sends the series that changed with each heartbeat, and the primary
 * sums every worker's and serves them (see docs/observe.md). Counting a response costs one Map
 * lookup and a short scan.
 */

/** Seconds; the bucket boundaries are those most web SLOs are written against. */
export const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const
/** Distinct routes counted per worker; later ones are counted as route `other` (an id the collapsing missed must not explode the series). */
const maxRoutes = 500

/** One method/route/status series, cumulative since the worker started. */
export interface HttpSeries {
  method: string
  route: string
  /** The response status; 499 when the client went away before the response was complete. */
  status: number
  count: number
  sum: number
  /** Observations per bucket of durationBuckets (not cumulative); the last one is +Inf. */
  buckets: number[]
}

export interface HttpMetrics {
  /** The series changed since the previous call (all of them with `all`). */
  series: HttpSeries[]
  timeouts: number
  inflight: number
  webSockets: WebSocketCounts
}

/** WebSockets: open now, closed since the worker started, and the closed ones' bytes each way. */
export interface WebSocketCounts {
  open: number
  closed: number
  bytesIn: number
  bytesOut: number
}

/** The series of each route: a route has a few (a method or two, a status or two), found by a scan. */
const series = new Map<string, HttpSeries[]>()
const changed = new Set<HttpSeries>()
let timeouts = 0
let inflightNow = 0
const webSockets: WebSocketCounts = { open: 0, closed: 0, bytesIn: 0, bytesOut: 0 }

export function countResponse(method: string, route: string, status: number, seconds: number): void {
  const code = status >= 100 && status < 600 ? status : 499
  // The route is usually the same string each time (routeName keeps them), hashed once.
  let name = route
  let list = series.get(name)
  if (list === undefined) {
    if (series.size >= maxRoutes) name = 'other'
    list = series.get(name) ?? []
    series.set(name, list)
  }
  let entry: HttpSeries | undefined
  for (const candidate of list) {
    if (candidate.status === code && candidate.method === method) {
      entry = candidate
      break
    }
  }
  if (entry === undefined) {
    entry = {
      method,
      route: name,
      status: code,
      count: 0,
      sum: 0,
      buckets: new Array(durationBuckets.length + 1).fill(0),
    }
    list.push(entry)
  }
  let bucket = 0
  while (bucket < durationBuckets.length && seconds > (durationBuckets[bucket] as number)) bucket++
  entry.buckets[bucket] = (entry.buckets[bucket] as number) + 1
  entry.count++
  entry.sum += seconds
  changed.add(entry)
}

export function countTimeout(): void {
  timeouts++
}

export function trackInflight(delta: 1 | -1): void {
  inflightNow += delta
}

/** This process's pipeline metrics: the series changed since the last call, or all of them. */
export function httpMetrics(all = false): HttpMetrics {
  const list = all ? [...series.values()].flat() : [...changed]
  if (!all) changed.clear()
  return {
    series: list.map((entry) => ({ ...entry, buckets: [...entry.buckets] })),
    timeouts,
    inflight: inflightNow,
    webSockets: { ...webSockets },
  }
}

/** Called by the upgrade path when a WebSocket opens and when it closes, with its bytes. */
export function webSocketOpened(): void {
  webSockets.open++
}

export function webSocketClosed(bytesIn: number, bytesOut: number): void {
  webSockets.open--
  webSockets.closed++
  webSockets.bytesIn += bytesIn
  webSockets.bytesOut += bytesOut
}
