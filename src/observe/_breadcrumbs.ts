/**
 * Breadcrumbs: the last log lines and queries of each request, kept in a slot of its context so
 * that an error report shows what led to it: nothing to clean up, and a request that logs nothing
 * costs nothing.
 */
import { fillSlot, getContext, newSlot, slotOf } from '../http/index.js'
import type { RequestContext } from '../types.js'
import { type Breadcrumb, type Level, safeJson } from './_event.js'

/**
 * Steps kept per request: the latest ones, which say most about the failure. Sentry's SDKs keep
 * 100; 50 holds a request's log lines among a few dozen queries, for a few KB per request that
 * logs, freed when it ends.
 */
const kept = 50
/** A log line's fields kept per step, and characters per value: enough to read, bounded to store. */
const keptFields = 20
const keptChars = 200
const crumbsSlot = newSlot<Breadcrumb[]>('breadcrumbs')
const levels: Record<number, Level> = {
  10: 'debug',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
}

type Fields = Record<string, unknown>

/**
 * Called for every line a shipshape logger writes: keeps it, with its fields masked as the line
 * is (`mask`), when a request is being handled.
 */
export function recordBreadcrumb(level: number, args: unknown[], mask: (fields: Fields) => Fields): void {
  const ctx = getContext()
  if (ctx === undefined) return
  const [first, second] = args
  const message = typeof first === 'string' ? first : typeof second === 'string' ? second : ''
  const fields = typeof first === 'object' && first !== null ? summary(mask(first as Fields)) : undefined
  addBreadcrumb(ctx, 'log', message, levels[level] ?? 'info', fields)
}

/** Keeps a step of request `ctx` (a log line, a query: `category` says which) for its error reports. */
export function addBreadcrumb(
  ctx: RequestContext,
  category: string,
  message: string,
  level: Level = 'info',
  data?: Breadcrumb['data'],
): void {
  let crumbs = slotOf(ctx, crumbsSlot)
  if (crumbs === undefined) {
    crumbs = []
    fillSlot(ctx, crumbsSlot, crumbs)
  }
  if (crumbs.length >= kept) crumbs.shift()
  crumbs.push({
    timestamp: Date.now() / 1000,
    category,
    message: message.slice(0, 500),
    level,
    ...(data ? { data } : {}),
  })
}

/** A line's fields as short values: an error as its type and message, an object as cut JSON. */
function summary(fields: Fields): Breadcrumb['data'] {
  const data: NonNullable<Breadcrumb['data']> = {}
  let count = 0
  for (const [key, value] of Object.entries(fields)) {
    if (count++ === keptFields) break
    data[key] =
      value === null || typeof value === 'number' || typeof value === 'boolean'
        ? value
        : value instanceof Error
          ? `${value.name}: ${value.message}`.slice(0, keptChars)
          : typeof value === 'string'
            ? value.slice(0, keptChars)
            : safeJson(value).slice(0, keptChars)
  }
  return count === 0 ? undefined : data
}

export function breadcrumbsOf(ctx: RequestContext): Breadcrumb[] | undefined {
  return slotOf(ctx, crumbsSlot)
}
