/**
 * The pipeline's metrics. The hot path only bumps plain numbers; the prom-client metrics that
 * expose them are made when the registry is first read (see defineMetrics), so counting costs
 * nothing measurable and an unscraped worker never loads prom-client.
 */
import { defineMetrics } from '../observe/index.js'

/** Responses by status class: index 1 → 1xx … 5 → 5xx; 0 counts requests the client abandoned. */
const byClass = [0, 0, 0, 0, 0, 0]
const classNames = ['aborted', '1xx', '2xx', '3xx', '4xx', '5xx']
let timeouts = 0
let inflightNow = 0
let webSocketsOpen = 0
let webSocketsClosed = 0
const webSocketBytes = { in: 0, out: 0 }
/** Seconds; the bucket boundaries are those most web SLOs are written against. */
const bucketBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Observations per bucket (not cumulative); the last one is +Inf. */
const bucketCounts = new Array<number>(bucketBounds.length + 1).fill(0)
let durationSum = 0
let durationCount = 0

const durationName = 'shipshape_http_request_duration_seconds'
const durationHelp = 'Time from the request arriving to its response being handed to the socket.'

defineMetrics(({ Counter, Gauge }, registry) => {
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
    help: 'Requests answered 503 at the request timeout, and started responses cut off at the idle timeout.',
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
  new Gauge({
    name: 'shipshape_websockets_open',
    help: 'WebSocket connections this worker holds right now.',
    registers: [registry],
    collect() {
      this.set(webSocketsOpen)
    },
  })
  new Counter({
    name: 'shipshape_websockets_closed_total',
    help: 'WebSocket connections this worker held that have closed.',
    registers: [registry],
    collect() {
      this.reset()
      if (webSocketsClosed) this.inc(webSocketsClosed)
    },
  })
  new Counter({
    name: 'shipshape_websocket_bytes_total',
    help: 'Bytes over the WebSocket connections that closed, by direction (in: from clients).',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset()
      if (webSocketBytes.in) this.inc({ direction: 'in' }, webSocketBytes.in)
      if (webSocketBytes.out) this.inc({ direction: 'out' }, webSocketBytes.out)
    },
  })
  // prom-client's Histogram can only be fed one observation at a time; this one reports the
  // buckets counted above through the registry's metric interface instead.
  registry.registerMetric({
    name: durationName,
    help: durationHelp,
    type: 'histogram',
    get: async () => {
      let cumulative = 0
      const values = bucketCounts.map((count, i) => {
        cumulative += count
        const le = i < bucketBounds.length ? (bucketBounds[i] as number) : '+Inf'
        return { metricName: `${durationName}_bucket`, labels: { le }, value: cumulative }
      })
      values.push({ metricName: `${durationName}_sum`, labels: {} as { le: number }, value: durationSum })
      values.push({ metricName: `${durationName}_count`, labels: {} as { le: number }, value: durationCount })
      return { name: durationName, help: durationHelp, type: 'histogram', values, aggregator: 'sum' }
    },
    reset() {},
  } as unknown as Parameters<typeof registry.registerMetric>[0])
})

export function countResponse(status: number, seconds: number): void {
  const index = status >= 100 && status < 600 ? (status / 100) | 0 : 0
  byClass[index] = (byClass[index] as number) + 1
  let bucket = 0
  while (bucket < bucketBounds.length && seconds > (bucketBounds[bucket] as number)) bucket++
  bucketCounts[bucket] = (bucketCounts[bucket] as number) + 1
  durationSum += seconds
  durationCount++
}

export function countTimeout(): void {
  timeouts++
}

export function trackInflight(delta: 1 | -1): void {
  inflightNow += delta
}

export function webSocketOpened(): void {
  webSocketsOpen++
}

export function webSocketClosed(bytesIn: number, bytesOut: number): void {
  webSocketsOpen--
  webSocketsClosed++
  webSocketBytes.in += bytesIn
  webSocketBytes.out += bytesOut
}
