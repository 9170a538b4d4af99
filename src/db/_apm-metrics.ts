/**
 * The database metrics, named after OpenTelemetry's database client conventions
 * (db.client.operation.duration, db.client.connection.count / pending_requests / wait_time).
 * As in http/_metrics.ts, queries only bump plain numbers here; the prom-client metrics that
 * expose them are made when the registry is first read, so an unscraped worker never loads it.
 */
import { defineMetrics } from '../observe/index.js'
import { type Operation, operations } from './_fingerprint.js'

/** Seconds: a query is usually well under a millisecond, a slow one seconds. */
const bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const opIndex = new Map<Operation, number>(operations.map((op, i) => [op, i]))
/** Per operation: observations per bucket (not cumulative), the last one +Inf; then sum, count, errors. */
const byOperation = operations.map(() => ({
  buckets: new Array<number>(bounds.length + 1).fill(0),
  sum: 0,
  count: 0,
  errors: 0,
}))
const wait = { buckets: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 }
/** Connections of every instrumented pool of this process: open, checked out, and callers waiting for one. */
export const connections = { open: 0, used: 0, pending: 0 }

function observe(into: { buckets: number[]; sum: number; count: number }, seconds: number): void {
  let bucket = 0
  while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++
  into.buckets[bucket] = (into.buckets[bucket] as number) + 1
  into.sum += seconds
  into.count++
}

export function countQuery(operation: Operation, ms: number, failed: boolean): void {
  const into = byOperation[opIndex.get(operation) as number] as (typeof byOperation)[number]
  observe(into, ms / 1000)
  if (failed) into.errors++
}

export function countWait(ms: number): void {
  observe(wait, ms / 1000)
}

type Sample = { metricName: string; labels: Record<string, string | number>; value: number }

function histogramSamples(name: string, into: typeof wait, labels: Record<string, string>): Sample[] {
  let cumulative = 0
  const samples: Sample[] = into.buckets.map((count, i) => {
    cumulative += count
    const le = i < bounds.length ? (bounds[i] as number) : '+Inf'
    return { metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative }
  })
  samples.push({ metricName: `${name}_sum`, labels, value: into.sum })
  samples.push({ metricName: `${name}_count`, labels, value: into.count })
  return samples
}

const durationName = 'shipshape_db_client_operation_duration_seconds'
const durationHelp = 'Time from a query being sent through the pool to its result, by operation.'
const waitName = 'shipshape_db_client_connection_wait_time_seconds'
const waitHelp = 'Time spent waiting for a connection from the pool.'

defineMetrics(({ Counter, Gauge }, registry) => {
  // prom-client's Histogram takes one observation at a time; these report the buckets counted above.
  for (const [name, help, samples] of [
    [
      durationName,
      durationHelp,
      () =>
        operations.flatMap((op, i) =>
          histogramSamples(durationName, byOperation[i] as typeof wait, { db_operation_name: op }),
        ),
    ],
    [waitName, waitHelp, () => histogramSamples(waitName, wait, {})],
  ] as const) {
    registry.registerMetric({
      name,
      help,
      type: 'histogram',
      get: async () => ({ name, help, type: 'histogram', values: samples(), aggregator: 'sum' }),
      reset() {},
    } as unknown as Parameters<typeof registry.registerMetric>[0])
  }
  new Counter({
    name: 'shipshape_db_client_operation_errors_total',
    help: 'Queries that failed, by operation.',
    labelNames: ['db_operation_name'],
    registers: [registry],
    collect() {
      this.reset()
      operations.forEach((op, i) => {
        const errors = (byOperation[i] as (typeof byOperation)[number]).errors
        if (errors) this.inc({ db_operation_name: op }, errors)
      })
    },
  })
  new Gauge({
    name: 'shipshape_db_client_connection_count',
    help: 'Connections of the pool, by state: used (checked out) or idle.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'used' }, connections.used)
      this.set({ state: 'idle' }, Math.max(0, connections.open - connections.used))
    },
  })
  new Gauge({
    name: 'shipshape_db_client_connection_pending_requests',
    help: 'Callers waiting for a connection from the pool.',
    registers: [registry],
    collect() {
      this.set(connections.pending)
    },
  })
})
