/**
 * The access line: one JSON line per request answered, written as the worker's pino logger would
 * write it (its level label, time, bindings such as the pid, message key and destination) but
 * built by hand. Through `logger.info()` the line cost about 9 µs of a worker's CPU a request
 * (the hook, the secret-masking formatter, a generic walk of its fields); built here, about 1.
 * Its fields are shipshape's own (ids, numbers, a path without its query), so neither masking nor
 * serializers have anything to do on it, and it is written outside any request, so it is nobody's
 * breadcrumb. The logger is createLogger()'s, whose destination is a plain stream (never
 * pino.multistream, which routes by metadata only pino's own write sets).
 */
import pino from 'pino'
import type { Logger } from '../observe/index.js'
import type { Context } from './_context.js'

const { lsCacheSym, timeSym, chindingsSym, streamSym, endSym, messageKeySym } = pino.symbols

export type AccessLine = (
  ctx: Context,
  completed: boolean,
  ms: number,
  extra: Record<string, unknown> | undefined,
) => void

/** The access line writer of `logger`: each call writes one line, if `info` is enabled then. */
export function accessLine(logger: Logger): AccessLine {
  // What pino keeps ready on each logger: none of it changes over the logger's life.
  const internals = logger as unknown as Record<symbol, unknown>
  const info = logger.levels.values.info as number
  const start = (internals[lsCacheSym] as Record<number, string>)[info] as string
  const time = internals[timeSym] as (this: Logger) => string
  const bindings = internals[chindingsSym] as string
  const stream = internals[streamSym] as { write(line: string): void }
  const end = `,${JSON.stringify(internals[messageKeySym])}:"request"${internals[endSym] as string}`
  return function writeAccessLine(ctx, completed, ms, extra) {
    if (logger.levelVal > info) return
    stream.write(
      start +
        time.call(logger) +
        bindings +
        // The id is a UUID or an inbound one of safe characters (requestIdOf): nothing to escape.
        `,"requestId":"${ctx.id}","method":${quoted(ctx.method)},"path":${quoted(ctx.path)}` +
        `,"status":${statusOf(ctx, completed)},"bytes":${bytesOf(ctx)},"ms":${Math.round(ms * 100) / 100}` +
        (ctx.timings === undefined ? '' : members(ctx.timings)) +
        (extra === undefined ? '' : members(extra)) +
        end,
    )
  }
}

// JSON escapes only quotes, backslashes, control characters and lone surrogates (as
// JSON.stringify does): a path rarely has one, and JSON.stringify is a call into C++ (2 µs a line).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters JSON must escape
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/

function quoted(text: string): string {
  return needsEscape.test(text) ? JSON.stringify(text) : `"${text}"`
}

// 499 as nginx logs it: the client went away before the response was complete.
function statusOf(ctx: Context, completed: boolean): number {
  return completed ? ctx.res.statusCode : 499
}

// A socket already destroyed (an answer that closed it mid-body) is detached from the request.
function bytesOf(ctx: Context): number {
  return (ctx.req.socket?.bytesWritten ?? ctx.bytesAtStart) - ctx.bytesAtStart
}

/** `,"key":value` for each member of `fields` with a value, as JSON. */
function members(fields: Record<string, unknown>): string {
  let text = ''
  for (const key in fields) {
    const value = fields[key]
    if (value !== undefined) text += `,${quoted(key)}:${jsonOf(value)}`
  }
  return text
}

function jsonOf(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  return typeof value === 'string' ? quoted(value) : JSON.stringify(value)
}
