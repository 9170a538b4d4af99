/**
 * Metrics for the whole server. Each worker samples its own numbers (`workerMetrics()`) and sends
 * them with its heartbeat; the primary keeps the latest of each worker (`MetricsAggregator`), folds
 * an exited worker's counters into a retired total so counters never go back, and renders the sum
 * as Prometheus text or OpenMetrics. Rendering is plain string building over pre-rendered label
 * sets: prom-client's registry costs far more per series, and the primary must stay responsive.
 */
import { durationBuckets, type HttpMetrics, type HttpSeries, type WebSocketCounts } from '../http/index.js'
import { addFamily, escapeLabel, type FamilySums, type MetricFamily, renderFamilies } from './_families.js'
import { type MachineSample, renderMachine } from './_machine.js'
import type { ProcessSample } from './_process.js'

/**
 * What a worker sends with a heartbeat: the HTTP series changed since the last one, and with the
 * timed beat a sample of itself and the capabilities' families that changed.
 */
export interface WorkerMetrics {
  http: HttpMetrics
  process?: ProcessSample
  errors?: { captured: number; dropped: number; forwardDropped?: number }
  families?: MetricFamily[]
}

interface Series {
  labels: string
  count: number
  sum: number
  buckets: number[]
}

interface WorkerEntry {
  series: Map<string, Series>
  timeouts: number
  inflight: number
  webSockets: WebSocketCounts
  process?: ProcessSample
  errors: { captured: number; dropped: number; forwardDropped?: number }
  families: Map<string, MetricFamily>
}

/** Server-level events the primary counts itself. */
export type ServerEvent = 'watchdog_kills' | 'worker_restarts' | 'reloads'

const labelsOf = (series: HttpSeries) =>
  `method="${escapeLabel(series.method)}",route="${escapeLabel(series.route)}",status_code="${series.status}"`
/** Label sets handled between two yields: about 1 ms of work on a small machine. */
const sliceSeries = 100
const bucketLabels = durationBuckets.map((bound) => `le="${bound}"`).concat('le="+Inf"')

export class MetricsAggregator {
  private readonly workers = new Map<number, WorkerEntry>()
  private readonly retired: WorkerEntry = {
    series: new Map(),
    timeouts: 0,
    inflight: 0,
    webSockets: noWebSockets(),
    errors: { captured: 0, dropped: 0 },
    families: new Map(),
  }
  /** The capabilities' counters and histograms of exited workers. */
  private readonly retiredFamilies: FamilySums = new Map()
  private retiredCpuSeconds = 0
  private readonly events: Record<ServerEvent, number> = { watchdog_kills: 0, worker_restarts: 0, reloads: 0 }

  receive(pid: number, metrics: WorkerMetrics): void {
    let entry = this.workers.get(pid)
    if (entry === undefined) {
      entry = {
        series: new Map(),
        timeouts: 0,
        inflight: 0,
        webSockets: noWebSockets(),
        errors: { captured: 0, dropped: 0 },
        families: new Map(),
      }
      this.workers.set(pid, entry)
    }
    for (const series of metrics.http.series) {
      const key = `${series.method} ${series.status} ${series.route}`
      const own = entry.series.get(key)
      if (own) {
        own.count = series.count
        own.sum = series.sum
        own.buckets = series.buckets
      } else
        entry.series.set(key, {
          labels: labelsOf(series),
          count: series.count,
          sum: series.sum,
          buckets: series.buckets,
        })
    }
    entry.timeouts = metrics.http.timeouts
    entry.inflight = metrics.http.inflight
    entry.webSockets = metrics.http.webSockets
    if (metrics.process) entry.process = metrics.process
    if (metrics.errors) entry.errors = metrics.errors
    for (const family of metrics.families ?? []) entry.families.set(family.name, family)
  }

  /** Each live worker's latest process sample: the console's server samples read them. */
  processSamples(): ProcessSample[] {
    return [...this.workers.values()].flatMap((entry) => (entry.process ? [entry.process] : []))
  }

  /** A worker is gone: its counters join the retired totals, its gauges go. */
  exited(pid: number): void {
    const entry = this.workers.get(pid)
    if (!entry) return
    this.workers.delete(pid)
    for (const [key, series] of entry.series) addSeries(this.retired.series, key, series)
    this.retired.timeouts += entry.timeouts
    addWebSockets(this.retired.webSockets, { ...entry.webSockets, open: 0 })
    this.retired.errors.captured += entry.errors.captured
    this.retired.errors.dropped += entry.errors.dropped
    this.retired.errors.forwardDropped =
      (this.retired.errors.forwardDropped ?? 0) + (entry.errors.forwardDropped ?? 0)
    this.retiredCpuSeconds += entry.process?.cpuSeconds ?? 0
    for (const family of entry.families.values()) addFamily(this.retiredFamilies, family, false)
  }

  /** Requests answered so far by every worker, past ones included, and those answered with a 5xx. */
  requestTotals(): { total: number; errors: number } {
    let total = 0
    let errors = 0
    for (const entry of [this.retired, ...this.workers.values()]) {
      for (const [key, series] of entry.series) {
        total += series.count
        if (key.split(' ', 2)[1]?.startsWith('5')) errors += series.count
      }
    }
    return { total, errors }
  }

  count(event: ServerEvent): void {
    this.events[event]++
  }

  /** The whole text at once (tests, and callers that want a string); the listener streams `chunks`. */
  async render(openMetrics: boolean, primary: ProcessSample, machine?: MachineSample): Promise<string> {
    let text = ''
    for await (const chunk of this.chunks(openMetrics, primary, machine)) text += chunk
    return text
  }

  /**
   * The text Prometheus scrapes, in slices of `sliceSeries` label sets; `openMetrics` for the
   * OpenMetrics format; `sections` (further metrics of the primary's own) go before OpenMetrics'
   * closing `# EOF`. It yields to the event loop after every slice, and each slice is handed on
   * as its own small string: the watchdog and the dispatch run in between, and no megabyte-long
   * string is joined at the end, nor thousands of small ones kept alive through the render for
   * every young-generation collection to copy (that join and those collections were the primary's
   * longest block: bench/README.md, observe).
   */
  async *chunks(
    openMetrics: boolean,
    primary: ProcessSample,
    machine?: MachineSample,
    sections: readonly ((openMetrics: boolean) => string)[] = [],
  ): AsyncGenerator<string> {
    let sinceYield = 0
    /** True when a slice's worth of label sets is done: time to hand it on and yield. */
    const sliceDone = () => {
      if (++sinceYield < sliceSeries) return false
      sinceYield = 0
      return true
    }
    const turn = () => new Promise((resolve) => setImmediate(resolve))
    const out: string[] = []
    const slice = () => out.splice(0).join('')
    const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) => {
      const base = openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name
      out.push(`# HELP ${base} ${help}\n# TYPE ${base} ${type}\n`)
    }
    const sample = (name: string, labels: string, value: number) =>
      out.push(labels ? `${name}{${labels}} ${value}\n` : `${name} ${value}\n`)
    /** A family of one unlabelled sample. */
    const single = (name: string, type: 'counter' | 'gauge', help: string, value: number) => {
      family(name, type, help)
      sample(name, '', value)
    }

    const merged = new Map<string, Series>()
    for (const [key, series] of this.retired.series) {
      addSeries(merged, key, series)
      if (sliceDone()) await turn()
    }
    let timeouts = this.retired.timeouts
    let inflight = 0
    const webSockets = { ...this.retired.webSockets }
    const errors = {
      captured: this.retired.errors.captured,
      dropped: this.retired.errors.dropped,
      forwardDropped: this.retired.errors.forwardDropped ?? 0,
    }
    for (const entry of this.workers.values()) {
      for (const [key, series] of entry.series) {
        addSeries(merged, key, series)
        if (sliceDone()) await turn()
      }
      timeouts += entry.timeouts
      inflight += entry.inflight
      addWebSockets(webSockets, entry.webSockets)
      errors.captured += entry.errors.captured
      errors.dropped += entry.errors.dropped
      errors.forwardDropped += entry.errors.forwardDropped ?? 0
    }
    family(
      'http_requests_total',
      'counter',
      'Requests answered, by method, route (ids collapsed) and status code (499: the client went away first).',
    )
    for (const series of merged.values()) {
      sample('http_requests_total', series.labels, series.count)
      if (sliceDone()) {
        yield slice()
        await turn()
      }
    }
    family(
      'http_request_duration_seconds',
      'histogram',
      'Time from the request arriving to its response being handed to the socket.',
    )
    for (const series of merged.values()) {
      let cumulative = 0
      for (let i = 0; i < series.buckets.length; i++) {
        cumulative += series.buckets[i] as number
        out.push(`http_request_duration_seconds_bucket{${series.labels},${bucketLabels[i]}} ${cumulative}\n`)
      }
      sample('http_request_duration_seconds_sum', series.labels, series.sum)
      sample('http_request_duration_seconds_count', series.labels, series.count)
      if (sliceDone()) {
        yield slice()
        await turn()
      }
    }
    single(
      'http_requests_in_flight',
      'gauge',
      'Requests being handled right now, over every worker.',
      inflight,
    )
    single(
      'shipshape_request_timeouts_total',
      'counter',
      'Requests answered 503 (or cut off) at the request timeout.',
      timeouts,
    )
    single(
      'shipshape_websockets_open',
      'gauge',
      'WebSocket connections held right now, over every worker.',
      webSockets.open,
    )
    single(
      'shipshape_websockets_closed_total',
      'counter',
      'WebSocket connections that have closed.',
      webSockets.closed,
    )
    family(
      'shipshape_websocket_bytes_total',
      'counter',
      'Bytes over the WebSocket connections that closed, by direction (in: from clients).',
    )
    sample('shipshape_websocket_bytes_total', 'direction="in"', webSockets.bytesIn)
    sample('shipshape_websocket_bytes_total', 'direction="out"', webSockets.bytesOut)
    single(
      'shipshape_watchdog_kills_total',
      'counter',
      'Workers killed by the watchdog (event loop blocked, drain or start too long).',
      this.events.watchdog_kills,
    )
    single(
      'shipshape_worker_restarts_total',
      'counter',
      'Workers started to replace one that crashed or was killed.',
      this.events.worker_restarts,
    )
    single(
      'shipshape_reloads_total',
      'counter',
      'Zero-downtime reloads started (SIGHUP, shipshape reload).',
      this.events.reloads,
    )
    single(
      'shipshape_errors_captured_total',
      'counter',
      'Errors captured by the error tracker.',
      errors.captured,
    )
    single(
      'shipshape_errors_dropped_total',
      'counter',
      "Errors dropped because a worker's error queue was full.",
      errors.dropped,
    )
    single(
      'shipshape_sentry_dropped_total',
      'counter',
      'Events not delivered to the Sentry-compatible server (queue full, rate-limited, failed).',
      errors.forwardDropped,
    )
    single('shipshape_workers', 'gauge', 'Worker processes reporting metrics.', this.workers.size)

    const perWorker: [string, string, (p: ProcessSample) => number][] = [
      [
        'nodejs_eventloop_lag_p99_seconds',
        "The 99th percentile of each process's event-loop delay over the last heartbeat.",
        (p) => p.eventLoopLagSeconds,
      ],
      ['nodejs_heap_size_used_bytes', 'V8 heap used, per process.', (p) => p.heapUsedBytes],
      ['nodejs_heap_size_total_bytes', 'V8 heap allocated, per process.', (p) => p.heapTotalBytes],
    ]
    for (const [name, help, read] of perWorker) {
      family(name, 'gauge', help)
      sample(name, 'process="primary"', read(primary))
      for (const [pid, entry] of this.workers)
        if (entry.process) sample(name, `process="worker",pid="${pid}"`, read(entry.process))
    }
    let cpu = primary.cpuSeconds + this.retiredCpuSeconds
    let resident = primary.residentBytes
    for (const entry of this.workers.values()) {
      cpu += entry.process?.cpuSeconds ?? 0
      resident += entry.process?.residentBytes ?? 0
    }
    single(
      'process_cpu_seconds_total',
      'counter',
      'CPU time of the primary and every worker, past ones included, in seconds.',
      cpu,
    )
    single(
      'process_resident_memory_bytes',
      'gauge',
      'Resident memory of the primary and its live workers, summed.',
      resident,
    )
    const families: FamilySums = new Map()
    for (const { family, samples } of this.retiredFamilies.values())
      addFamily(families, { ...family, samples: [...samples.values()] })
    for (const entry of this.workers.values())
      for (const family of entry.families.values()) addFamily(families, family)
    renderFamilies(families, openMetrics, out)
    if (machine) renderMachine(machine, family, sample)
    for (const render of sections) out.push(render(openMetrics))
    if (openMetrics) out.push('# EOF\n')
    yield slice()
  }
}

function addSeries(into: Map<string, Series>, key: string, series: Series): void {
  const own = into.get(key)
  if (own === undefined) {
    into.set(key, {
      labels: series.labels,
      count: series.count,
      sum: series.sum,
      buckets: [...series.buckets],
    })
    return
  }
  own.count += series.count
  own.sum += series.sum
  for (let i = 0; i < series.buckets.length; i++)
    own.buckets[i] = (own.buckets[i] ?? 0) + (series.buckets[i] as number)
}

function noWebSockets(): WebSocketCounts {
  return { open: 0, closed: 0, bytesIn: 0, bytesOut: 0 }
}

function addWebSockets(total: WebSocketCounts, counts: WebSocketCounts): void {
  total.open += counts.open
  total.closed += counts.closed
  total.bytesIn += counts.bytesIn
  total.bytesOut += counts.bytesOut
}
