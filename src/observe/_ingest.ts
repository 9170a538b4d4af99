/**
 * An envelope endpoint, so the official Sentry SDKs (`@sentry/browser` on the app's own pages,
 * `@sentry/node` in other services) report to the app itself: `POST /api/<project>/envelope/`,
 * authenticated by the DSN's public key, at most 1 MiB, rate-limited, answered as Sentry answers.
 * Events land in the worker's error tracker, grouped with the app's own. Anything malformed is a
 * 4xx and nothing of it is stored; unknown item types are skipped, as the protocol asks.
 */
import { gunzip } from 'node:zlib'
import type { Middleware, Relay, RequestContext } from '../types.js'
import type { ErrorEvent } from './_event.js'

const envelopePath = /^\/api\/(\d+)\/envelope\/?$/
/** The largest body taken, compressed or not (Sentry's own limit for one event is 1 MiB). */
const maxBytes = 1024 * 1024
/**
 * The rate window: a minute of the wall clock, the same minute in every worker, so their counts
 * add up. Each worker tells the others what it accepted over the primary's relay; two workers
 * accepting at the same instant near the limit may pass it by the events in flight between them.
 */
const windowMs = 60_000
const channel = 'observe:ingest'

interface Accepted {
  key: string
  minute: number
  count: number
}

export interface IngestOptions {
  /** DSN public keys accepted: the `<key>` in `https://<key>@host/<project>`. */
  keys: readonly string[]
  /** Events accepted per key per minute by all the workers of this server; beyond, 429. */
  perMinute: number
  /**
   * Count in Redis instead (REDIS_URL, under the cache's key prefix): the rate is then every
   * instance's together. Without it, or while Redis fails, each instance counts its own.
   */
  redis?: { url: string; prefix: string }
}

/** Minute windows counted in Redis, shared by every instance; a key lives two minutes. */
function redisWindows({ url, prefix }: { url: string; prefix: string }) {
  // ioredis is loaded on the first envelope: a worker that never receives one never connects.
  let client: Promise<import('ioredis').Redis> | undefined
  const connect = () => {
    client ??= import('ioredis').then(
      ({ Redis }) => new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true }),
    )
    return client
  }
  const keyOf = (key: string, minute: number) => `${prefix}:ingest:${key}:${minute}`
  return {
    async used(key: string, minute: number): Promise<number> {
      return Number((await (await connect()).get(keyOf(key, minute))) ?? 0)
    },
    async add(key: string, minute: number, count: number): Promise<void> {
      await (await connect()).multi().incrby(keyOf(key, minute), count).expire(keyOf(key, minute), 120).exec()
    },
  }
}

/** Answers the envelope endpoint; every other request goes on. */
export function sentryIngest(options: IngestOptions): Middleware {
  const keys = new Set(options.keys)
  const shared = options.redis && redisWindows(options.redis)
  /** Events accepted in the current minute, per key: this worker's and the others'. */
  const windows = new Map<string, { minute: number; count: number }>()
  const counted = (key: string, minute: number) => {
    let window = windows.get(key)
    if (window === undefined || window.minute !== minute) {
      window = { minute, count: 0 }
      windows.set(key, window)
    }
    return window
  }
  const heard = new WeakSet<Relay>()
  const listen = (relay: Relay | undefined) => {
    if (relay === undefined || heard.has(relay)) return
    heard.add(relay)
    relay.subscribe(channel, (data) => {
      const { key, minute, count } = data as Accepted
      if (minute === Math.floor(Date.now() / windowMs)) counted(key, minute).count += count
    })
  }

  return async function sentryEnvelope(ctx: RequestContext, next): Promise<void> {
    const match = envelopePath.exec(ctx.path)
    if (!match) return next()
    const { res } = ctx
    // Browsers post cross-origin from the app's pages; the SDK sends no credentials.
    res.setHeader('access-control-allow-origin', '*')
    if (ctx.method === 'OPTIONS') {
      res
        .writeHead(204, {
          'access-control-allow-headers': 'content-type, x-sentry-auth',
          'access-control-allow-methods': 'POST',
        })
        .end()
      return
    }
    if (ctx.method !== 'POST') return answer(ctx, 405, 'only POST')
    const key = keyOf(ctx)
    if (key === undefined || !keys.has(key)) return answer(ctx, 401, 'unknown DSN key')
    listen(ctx.worker.relay)
    const now = Date.now()
    const minute = Math.floor(now / windowMs)
    // Redis's count when it answers, else this instance's (Redis down must not open the gate wider than that).
    const used = shared
      ? await shared.used(key, minute).catch(() => counted(key, minute).count)
      : counted(key, minute).count
    if (used >= options.perMinute) {
      const seconds = Math.ceil(((minute + 1) * windowMs - now) / 1000)
      res.setHeader('retry-after', String(seconds))
      res.setHeader('x-sentry-rate-limits', `${seconds}::key`)
      return answer(ctx, 429, 'rate limited')
    }
    const body = await readBody(ctx)
    if (typeof body === 'number')
      return answer(ctx, body, body === 413 ? 'envelope too large' : 'unreadable body')
    const items = parseEnvelope(body)
    if (typeof items === 'string') return answer(ctx, 400, items)
    const tracker = ctx.worker.errors
    counted(key, minute).count += items.length
    ctx.worker.relay?.publish(channel, { key, minute, count: items.length } satisfies Accepted)
    await shared?.add(key, minute, items.length).catch(() => {})
    for (const event of items) {
      tracker?.capture(event.exception?.values[0]?.value ?? event.message?.formatted ?? 'event', {
        kind: 'sentry',
        event,
      })
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: items[0]?.event_id ?? null }))
  }
}

function answer(ctx: RequestContext, status: number, detail: string): void {
  ctx.res.writeHead(status, {
    'content-type': 'application/json',
    connection: status >= 400 ? 'close' : 'keep-alive',
  })
  ctx.res.end(JSON.stringify({ detail }))
}

/** The key from X-Sentry-Auth, or the `sentry_key` query parameter the browser SDK uses. */
function keyOf(ctx: RequestContext): string | undefined {
  const auth = ctx.req.headers['x-sentry-auth']
  const fromHeader = typeof auth === 'string' ? /sentry_key=([^,\s]+)/.exec(auth)?.[1] : undefined
  if (fromHeader) return fromHeader
  const url = ctx.req.url ?? ''
  const query = url.indexOf('?')
  return query === -1 ? undefined : (new URLSearchParams(url.slice(query + 1)).get('sentry_key') ?? undefined)
}

/** The body, decompressed, or the status refusing it. */
async function readBody(ctx: RequestContext): Promise<Buffer | number> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length
      if (size > maxBytes) return 413
      chunks.push(chunk as Buffer)
    }
  } catch {
    return 400
  }
  const raw = Buffer.concat(chunks)
  if (ctx.req.headers['content-encoding'] !== 'gzip') return raw
  return new Promise((resolve) => {
    gunzip(raw, { maxOutputLength: maxBytes }, (error, inflated) => {
      if (error) resolve((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 413 : 400)
      else resolve(inflated)
    })
  })
}

/** The envelope's event items, or why it is refused. */
function parseEnvelope(body: Buffer): ErrorEvent[] | string {
  let at = 0
  const line = (): string | undefined => {
    if (at >= body.length) return undefined
    let end = body.indexOf(10, at)
    if (end === -1) end = body.length
    const text = body.subarray(at, end).toString('utf8')
    at = end + 1
    return text
  }
  const json = (text: string | undefined): unknown => {
    try {
      return text === undefined ? undefined : JSON.parse(text)
    } catch {
      return undefined
    }
  }
  const header = json(line())
  if (typeof header !== 'object' || header === null) return 'the envelope header is not a JSON object'
  const events: ErrorEvent[] = []
  for (;;) {
    const headerLine = line()
    if (headerLine === undefined || headerLine.trim() === '') {
      if (at >= body.length) break
      continue
    }
    const item = json(headerLine) as { type?: unknown; length?: unknown } | undefined
    if (typeof item !== 'object' || item === null || typeof item.type !== 'string')
      return 'an item header is not a JSON object with a type'
    let payload: Buffer
    if (item.length !== undefined) {
      if (
        !Number.isInteger(item.length) ||
        (item.length as number) < 0 ||
        at + (item.length as number) > body.length
      )
        return 'an item length does not match the envelope'
      payload = body.subarray(at, at + (item.length as number))
      at += (item.length as number) + 1
    } else {
      payload = Buffer.from(line() ?? '')
    }
    if (item.type !== 'event') continue // attachments, sessions, client reports…: skipped
    const event = json(payload.toString('utf8'))
    if (typeof event !== 'object' || event === null || Array.isArray(event))
      return 'an event item is not a JSON object'
    events.push(received(event as Record<string, unknown>, header as Record<string, unknown>))
  }
  return events
}

/** A received event, keeping only the fields shipshape uses, with the frames normalised for grouping. */
function received(event: Record<string, unknown>, header: Record<string, unknown>): ErrorEvent {
  const text = (value: unknown, max = 1000) => (typeof value === 'string' ? value.slice(0, max) : undefined)
  const record = (value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {}
  const exceptions = Array.isArray(record(event.exception).values)
    ? (record(event.exception).values as unknown[])
    : []
  const values = exceptions.slice(-5).map((raw) => {
    const exception = record(raw)
    const frames = Array.isArray(record(exception.stacktrace).frames)
      ? (record(exception.stacktrace).frames as unknown[])
      : []
    return {
      type: text(exception.type, 200) ?? 'Error',
      value: text(exception.value) ?? '',
      stacktrace: {
        frames: frames.slice(-50).map((rawFrame) => {
          const frame = record(rawFrame)
          const filename = text(frame.filename, 300) ?? text(frame.abs_path, 300) ?? '?'
          return {
            filename,
            abs_path: text(frame.abs_path, 300) ?? filename,
            function: text(frame.function, 200) ?? '<anonymous>',
            module: text(frame.module, 300) ?? filename,
            lineno: typeof frame.lineno === 'number' ? frame.lineno : undefined,
            colno: typeof frame.colno === 'number' ? frame.colno : undefined,
            in_app: frame.in_app === true,
            context_line: text(frame.context_line, 200),
          }
        }),
      },
    }
  })
  const levels = ['fatal', 'error', 'warning', 'info', 'debug']
  const message = text(record(event.message).formatted) ?? text(event.message)
  return {
    event_id: /^[0-9a-f]{32}$/.test(String(event.event_id ?? header.event_id))
      ? String(event.event_id ?? header.event_id)
      : crypto.randomUUID().replaceAll('-', ''),
    timestamp: typeof event.timestamp === 'number' ? event.timestamp : Date.now() / 1000,
    level: (levels.includes(String(event.level)) ? event.level : 'error') as ErrorEvent['level'],
    platform: 'node',
    release: text(event.release, 200),
    environment: text(event.environment, 200),
    server_name: text(event.server_name, 200),
    ...(message ? { message: { formatted: message } } : {}),
    ...(values.length ? { exception: { values } } : {}),
    tags: Object.fromEntries(
      Object.entries(record(event.tags))
        .slice(0, 50)
        .map(([name, value]) => [name.slice(0, 100), String(value).slice(0, 200)]),
    ),
    extra: { sdk: record(event.sdk).name ?? 'unknown' },
    ...(Array.isArray(event.fingerprint) ? { fingerprint: event.fingerprint.slice(0, 10).map(String) } : {}),
    contexts: {
      runtime: { name: 'node', version: String(record(record(event.contexts).runtime).version ?? '') },
    },
  }
}
