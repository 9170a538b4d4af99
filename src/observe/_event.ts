/**
 * An error event, in the shape of Sentry's event payload (so the same object is stored, shown and
 * sent to a Sentry-compatible server). Making one has two halves: `snapshot()` runs on the request
 * path and only copies references and a few strings (a few microseconds); `buildEvent()` runs
 * later, off it, and does the costly parts: reading the stack, masking, reading source lines.
 */
import { randomUUID } from 'node:crypto'
import type { RequestContext } from '../types.js'
import { type Frame, parseStack, type SourceCache } from './_stack.js'

export type Level = 'fatal' | 'error' | 'warning' | 'info' | 'debug'
/** What raised the event: the app during a request, a timeout, a crash, the watchdog, the app's own call, or a Sentry SDK. */
type EventKind = 'request' | 'timeout' | 'crash' | 'watchdog' | 'manual' | 'sentry'

export interface CaptureOptions {
  tags?: Record<string, string>
  extra?: Record<string, unknown>
  /** Overrides the grouping; `'{{ default }}'` in it stands for the default grouping. */
  fingerprint?: string[]
  level?: Level
}

export interface CaptureHints extends CaptureOptions {
  ctx?: RequestContext
  kind?: EventKind
  /** An event made elsewhere (received from a Sentry SDK): grouped and stored as it is. */
  event?: ErrorEvent
}

export interface Breadcrumb {
  timestamp: number
  category: string
  message: string
  level: Level
  /** A log line's fields (masked, each value cut to 200 characters). */
  data?: Record<string, string | number | boolean | null>
}

export interface ErrorEvent {
  event_id: string
  timestamp: number
  level: Level
  platform: 'node'
  release?: string
  environment?: string
  server_name?: string
  message?: { formatted: string }
  exception?: { values: { type: string; value: string; stacktrace?: { frames: Frame[] } }[] }
  request?: {
    method: string
    url: string
    query_string?: string
    headers: Record<string, string>
    env: { REMOTE_ADDR: string }
  }
  user?: Record<string, unknown>
  tags: Record<string, string>
  extra: Record<string, unknown>
  fingerprint?: string[]
  breadcrumbs?: { values: Breadcrumb[] }
  contexts: { runtime: { name: 'node'; version: string } }
}

/** What the request path copies: references and short strings only. */
export interface Snapshot {
  error: unknown
  hints: CaptureHints
  timestamp: number
  request?: {
    id: string
    method: string
    url: string
    route: string
    headers: Record<string, string>
    clientIp: string
    host: string
    protocol: string
  }
  user?: unknown
  breadcrumbs?: Breadcrumb[]
}

/** Headers worth seeing in a report; never Cookie, Authorization or a proxy's credentials. */
const keptHeaders = [
  'host',
  'user-agent',
  'referer',
  'accept',
  'accept-language',
  'content-type',
  'content-length',
  'origin',
  'x-forwarded-for',
  'x-forwarded-proto',
]
/** Query parameters whose value is masked: the key names that carry secrets in practice. */
const secretParam = /pass|secret|token|key|auth|session|signature|sig$|code|credential|jwt|otp/i

export function snapshot(
  error: unknown,
  hints: CaptureHints,
  route: (ctx: RequestContext) => string,
  breadcrumbs: (ctx: RequestContext) => Breadcrumb[] | undefined,
): Snapshot {
  const taken: Snapshot = { error, hints, timestamp: Date.now() / 1000 }
  const ctx = hints.ctx
  if (ctx) {
    const headers: Record<string, string> = {}
    for (const name of keptHeaders) {
      const value = ctx.req.headers[name]
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    taken.request = {
      id: ctx.id,
      method: ctx.method,
      url: ctx.req.url ?? '/',
      route: route(ctx),
      headers,
      clientIp: ctx.clientIp,
      host: ctx.req.headers.host ?? 'localhost',
      protocol: ctx.protocol,
    }
    taken.user = ctx.state.user
    const crumbs = breadcrumbs(ctx)
    if (crumbs) taken.breadcrumbs = [...crumbs]
  }
  return taken
}

export interface Identity {
  release?: string
  environment?: string
  serverName?: string
}

/** The full event, off the request path: stack frames with source lines, masked query, user. */
export async function buildEvent(
  taken: Snapshot,
  identity: Identity,
  sources: SourceCache,
): Promise<ErrorEvent> {
  const { error, hints } = taken
  const event: ErrorEvent = {
    event_id: randomUUID().replaceAll('-', ''),
    timestamp: taken.timestamp,
    level: hints.level ?? (hints.kind === 'crash' || hints.kind === 'watchdog' ? 'fatal' : 'error'),
    platform: 'node',
    ...(identity.release ? { release: identity.release } : {}),
    ...(identity.environment ? { environment: identity.environment } : {}),
    ...(identity.serverName ? { server_name: identity.serverName } : {}),
    tags: { kind: hints.kind ?? 'manual', ...hints.tags },
    extra: { ...hints.extra },
    contexts: { runtime: { name: 'node', version: process.version } },
  }
  if (hints.fingerprint) event.fingerprint = [...hints.fingerprint]
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'stack' in error)) {
    const failure = error as Error
    const frames = parseStack(typeof failure.stack === 'string' ? failure.stack : undefined)
    await sources.addContext(frames)
    const type = failure.name || failure.constructor?.name || 'Error'
    event.exception = {
      values: [
        { type, value: String(failure.message ?? ''), ...(frames.length ? { stacktrace: { frames } } : {}) },
      ],
    }
    const code = (failure as { code?: unknown }).code
    if (typeof code === 'string') event.tags.code = code
    if (failure.cause !== undefined)
      event.extra.cause =
        failure.cause instanceof Error ? (failure.cause.stack ?? String(failure.cause)) : failure.cause
  } else {
    event.message = { formatted: typeof error === 'string' ? error : safeJson(error) }
  }
  const request = taken.request
  if (request) {
    const query = request.url.indexOf('?')
    const path = query === -1 ? request.url : request.url.slice(0, query)
    event.request = {
      method: request.method,
      url: `${request.protocol}://${request.host}${path}`,
      ...(query === -1 ? {} : { query_string: maskQuery(request.url.slice(query + 1)) }),
      headers: request.headers,
      env: { REMOTE_ADDR: request.clientIp },
    }
    event.tags.route = request.route
    event.tags.request_id = request.id
    const user = userOf(taken.user)
    event.user = { ip_address: request.clientIp, ...user }
  }
  if (taken.breadcrumbs?.length) event.breadcrumbs = { values: taken.breadcrumbs }
  return event
}

/** `password=hunter2&page=2` → `password=[Filtered]&page=2`. */
function maskQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=')
      const key = equals === -1 ? pair : pair.slice(0, equals)
      return equals !== -1 && secretParam.test(decodeSafely(key)) ? `${key}=[Filtered]` : pair
    })
    .join('&')
    .slice(0, 2000)
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** The user the app set on the context (`ctx.state.user`): its id, e-mail and name, nothing else. */
function userOf(user: unknown): Record<string, unknown> {
  if (typeof user === 'string' || typeof user === 'number') return { id: String(user) }
  if (typeof user !== 'object' || user === null) return {}
  const { id, email, username, name } = user as Record<string, unknown>
  const kept: Record<string, unknown> = {}
  if (id !== undefined) kept.id = String(id)
  if (typeof email === 'string') kept.email = email
  if (typeof (username ?? name) === 'string') kept.username = username ?? name
  return kept
}

/** JSON of anything: a cycle or a BigInt falls back to String(). */
export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** The event's title as issues show it: `TypeError: x is undefined`, or the message. */
export function titleOf(event: ErrorEvent): string {
  const exception = event.exception?.values[0]
  const text = exception ? `${exception.type}: ${exception.value}` : (event.message?.formatted ?? '')
  return text.split('\n')[0]?.slice(0, 200) ?? ''
}

/** Where it failed: the innermost in-app frame (or the innermost), as `file in function`. */
export function culpritOf(event: ErrorEvent): string {
  const frames = event.exception?.values[0]?.stacktrace?.frames ?? []
  const frame = [...frames].reverse().find((candidate) => candidate.in_app) ?? frames[frames.length - 1]
  return frame ? `${frame.filename} in ${frame.function}` : (event.tags.route ?? '')
}
