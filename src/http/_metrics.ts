/**
 * The pipeline's metrics, in the process's shared registry. The hot path only bumps plain
 * numbers; prom-client reads them when /metrics is scraped, so counting costs nothing measurable.
 */
import { Counter, Gauge, Histogram } from 'prom-client'
import { registry } from '../observe/index.js'

/** Responses by status class: index 1 → 1xx … 5 → 5xx; 0 counts requests the client abandoned. */
const byClass = [0, 0, 0, 0, 0, 0]
const classNames = ['aborted', '1xx', '2xx', '3xx', '4xx', '5xx']
let timeouts = 0
let inflightNow = 0
/** Seconds; the bucket boundaries are those most web SLOs are written against. */
const bucketBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

function register(): Histogram {
  const existing = registry.getSingleMetric('shipshape_http_request_duration_seconds')
  if (existing) return existing as Histogram
  new Counter({
    name: 'shipshape_http_requests_total',
    help: 'Requests answered by this worker, by status class (aborted: the client went away first).',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset()
      for (let i = 0; i < byClass.length; i++) {
        if (byClass[i]) this.inc({ status: classNames[i] as string }, byClass[i] as number)
      }
    },
  })
  new Counter({
    name: 'shipshape_request_timeouts_total',
    help: 'Requests that ran past the request timeout and were answered 503 (or cut off).',
    registers: [registry],
    collect() {
      this.reset()
      if (timeouts) this.inc(timeouts)
    },
  })
  new Gauge({
    name: 'shipshape_http_requests_in_flight',
    help: 'Requests being handled by this worker right now.',
    registers: [registry],
    collect() {
      this.set(inflightNow)
    },
  })
  return new Histogram({
    name: 'shipshape_http_request_duration_seconds',
    help: 'Time from the request arriving to its response being handed to the socket.',
    buckets: bucketBounds,
    registers: [registry],
  })
}

const duration = register()

export function countResponse(status: number, seconds: number): void {
  const index = status >= 100 && status < 600 ? (status / 100) | 0 : 0
  byClass[index] = (byClass[index] as number) + 1
  duration.observe(seconds)
}

export function countTimeout(): void {
  timeouts++
}

export function trackInflight(delta: 1 | -1): void {
  inflightNow += delta
}
