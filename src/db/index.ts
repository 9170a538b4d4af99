/**
 * shipshape/db. The APM: every query through the worker's instrumented pool is counted against
 * its request (`queryStats()`), N+1 loops and slow queries are reported with their call site, slow
 * SELECTs are EXPLAINed for index hints, and per-route figures go to the database every minute.
 * Tests guard against N+1 loops with `expectQueries()`. See docs/db-apm.md.
 */
import { getContext } from '../http/index.js'
import type { RequestContext } from '../types.js'
import type { QueryStats } from './_apm.js'

export type { NPlusOne, QueryStats } from './_apm.js'
export { type ExpectedQueries, type ExpectQueriesOptions, expectQueries } from './_expect.js'
export { fingerprint } from './_fingerprint.js'
export type { RouteStats } from './_routes.js'

/**
 * What the current request (or `ctx`) has done with the database so far: query count, database
 * and pool-wait milliseconds, the slowest query. Undefined outside a request or without the APM.
 */
export function queryStats(ctx: RequestContext | undefined = getContext()): QueryStats | undefined {
  return ctx === undefined ? undefined : ctx.worker.apm?.statsOf(ctx)
}
