/**
 * Per-route statistics: latency quantiles, throughput, error rate, database time share, mean
 * query count and N+1 reports, for the current window (one minute by default), in bounded memory:
 * at most `maxRoutes` routes (later ones share the route `(other)`), each a fixed-size sketch.
 * Each window is written to the database when it closes, so every worker's figures end up in one
 * table the ops console reads (the slowest endpoints), and then starts afresh.
 */
import { Sketch } from './_sketch.js'

export interface RouteSample {
  method: string
  route: string
  status: number
  ms: number
  queries: number
  dbMs: number
  nPlusOnes: number
}

class Window {
  readonly latency = new Sketch()
  errors = 0
  queries = 0
  dbMs = 0
  nPlusOnes = 0
}

/** One route's figures over a window, as listed by `routeStats()` and stored in `shipshape_apm_routes`. */
export interface RouteStats {
  method: string
  route: string
  requests: number
  /** Requests per second over the window so far. */
  throughput: number
  /** Share of 5xx answers (0..1). */
  errorRate: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  meanMs: number
  /** Share of the requests' time spent in queries (0..1; parallel queries can make it exceed 1). */
  dbShare: number
  meanQueries: number
  nPlusOnes: number
}

/** A closed window's figures of one route, with its latency sketch (stored so that windows merge exactly). */
export type WindowStats = RouteStats & { latency: Sketch }

/** What a route beyond the bound is counted under. */
export const otherRoute = '(other)'

export class RouteTable {
  private windows = new Map<string, Window>()
  private since = Date.now()
  constructor(private readonly maxRoutes: number) {}

  record(sample: RouteSample): void {
    let key = `${sample.method} ${sample.route}`
    let window = this.windows.get(key)
    if (window === undefined) {
      if (this.windows.size >= this.maxRoutes) key = `${sample.method} ${otherRoute}`
      window = this.windows.get(key)
      if (window === undefined) {
        window = new Window()
        this.windows.set(key, window)
      }
    }
    window.latency.add(sample.ms)
    if (sample.status >= 500 || sample.status === 0) window.errors++
    window.queries += sample.queries
    window.dbMs += sample.dbMs
    window.nPlusOnes += sample.nPlusOnes
  }

  /** The current window's figures, slowest p95 first. */
  stats(now = Date.now()): RouteStats[] {
    const seconds = Math.max(1, (now - this.since) / 1000)
    const list: RouteStats[] = []
    for (const [key, window] of this.windows) {
      const space = key.indexOf(' ')
      const requests = window.latency.count
      list.push({
        method: key.slice(0, space),
        route: key.slice(space + 1),
        requests,
        throughput: requests / seconds,
        errorRate: window.errors / requests,
        p50Ms: window.latency.quantile(0.5),
        p95Ms: window.latency.quantile(0.95),
        p99Ms: window.latency.quantile(0.99),
        meanMs: window.latency.sumMs / requests,
        dbShare: window.latency.sumMs > 0 ? window.dbMs / window.latency.sumMs : 0,
        meanQueries: window.queries / requests,
        nPlusOnes: window.nPlusOnes,
      })
    }
    return list.sort((a, b) => b.p95Ms - a.p95Ms)
  }

  /** Ends the window: returns its figures with each route's sketch, and when it began, and starts the next one empty. */
  rotate(now = Date.now()): { since: Date; stats: WindowStats[] } {
    const stats = this.stats(now).map((s) => ({
      ...s,
      latency: (this.windows.get(`${s.method} ${s.route}`) as Window).latency,
    }))
    const since = new Date(this.since)
    this.windows = new Map()
    this.since = now
    return { since, stats }
  }

  get size(): number {
    return this.windows.size
  }
}
