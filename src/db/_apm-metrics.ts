/**
 * The database metrics, named after OpenTelemetry's database client conventions
 * (db.client.operation.duration, db.client.connection.count / pending_requests / wait_time).
 * As in http/_metrics.ts, queries only bump plain numbers here; the worker's heartbeat collects
 * them (contributeMetrics) and the primary sums every worker's on /metrics.
 */
import { contributeMetrics } from '../observe/index.js'
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

contributeMetrics(
  {
    name: 'shipshape_db_client_operation_duration_seconds',
    help: 'Time from a query being sent through the pool to its result, by operation.',
    type: 'histogram',
    bounds,
    collect: () =>
      operations.flatMap((op, i) => {
        const { buckets, sum, count } = byOperation[i] as (typeof byOperation)[number]
        return count > 0 ? [{ labels: { db_operation_name: op }, buckets, sum, count }] : []
      }),
  },
  {
    name: 'shipshape_db_client_connection_wait_time_seconds',
    help: 'Time spent waiting for a connection from the pool.',
    type: 'histogram',
    bounds,
    collect: () => (wait.count > 0 ? [wait] : []),
  },
  {
    name: 'shipshape_db_client_operation_errors_total',
    help: 'Queries that failed, by operation.',
    type: 'counter',
    collect: () =>
      operations.flatMap((op, i) => {
        const { errors } = byOperation[i] as (typeof byOperation)[number]
        return errors > 0 ? [{ labels: { db_operation_name: op }, value: errors }] : []
      }),
  },
  {
    name: 'shipshape_db_client_connection_count',
    help: 'Connections of the pools, by state: used (checked out) or idle, over every worker.',
    type: 'gauge',
    collect: () => [
      { labels: { state: 'used' }, value: connections.used },
      { labels: { state: 'idle' }, value: Math.max(0, connections.open - connections.used) },
    ],
  },
  {
    name: 'shipshape_db_client_connection_pending_requests',
    help: 'Callers waiting for a connection from the pools, over every worker.',
    type: 'gauge',
    collect: () => [{ value: connections.pending }],
  },
)
