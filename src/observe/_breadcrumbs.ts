/**
 * Breadcrumbs: the last log lines and queries of each request, kept beside its context so that an error
 * report shows what led to it. A WeakMap keyed by the context: nothing to clean up, and a request
 * that logs nothing costs nothing.
 */
import { getContext } from '../http/index.js'
import type { RequestContext } from '../types.js'
import type { Breadcrumb, Level } from './_event.js'

/** Lines kept per request: the latest ones, which say most about the failure. */
const kept = 20
const byRequest = new WeakMap<RequestContext, Breadcrumb[]>()
const levels: Record<number, Level> = {
  10: 'debug',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
}

/** Called for every line a shipshape logger writes: keeps it when a request is being handled. */
export function recordBreadcrumb(level: number, args: unknown[]): void {
  const [first, second] = args
  const message = typeof first === 'string' ? first : typeof second === 'string' ? second : ''
  const ctx = getContext()
  if (ctx !== undefined) addBreadcrumb(ctx, 'log', message, levels[level] ?? 'info')
}

/** Keeps a step of request `ctx` (a log line, a query: `category` says which) for its error reports. */
export function addBreadcrumb(
  ctx: RequestContext,
  category: string,
  message: string,
  level: Level = 'info',
): void {
  let crumbs = byRequest.get(ctx)
  if (crumbs === undefined) {
    crumbs = []
    byRequest.set(ctx, crumbs)
  }
  if (crumbs.length >= kept) crumbs.shift()
  crumbs.push({ timestamp: Date.now() / 1000, category, message: message.slice(0, 500), level })
}

export function breadcrumbsOf(ctx: RequestContext): Breadcrumb[] | undefined {
  return byRequest.get(ctx)
}
