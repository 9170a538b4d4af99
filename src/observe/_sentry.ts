/**
 * Sending events to a Sentry-compatible server (Sentry, GlitchTip, Bugsink) as the official SDKs
 * do: one envelope per event, gzipped, POSTed to `/api/<project>/envelope/` with the DSN's key in
 * X-Sentry-Auth. The queue is bounded and sends at most two envelopes at a time; a failed send is
 * retried with backoff, then dropped; 429s and X-Sentry-Rate-Limits pause the categories they name.
 * Everything dropped is counted and reported in the next envelope's `client_report`, as the
 * protocol asks. Nothing here ever blocks or throws at the app.
 */
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import type { ErrorEvent } from './_event.js'

const gzip = promisify(gzipCallback)

/** Events waiting at most; beyond, new ones are dropped (a Sentry that is down must not eat the heap). */
const maxQueue = 100
const concurrency = 2
const attempts = 3
const firstBackoffMs = 1000
const sendTimeoutMs = 10_000
/** A 429 that says nothing of how long: Sentry's SDKs wait this long. */
const defaultRateLimitMs = 60_000

export interface Dsn {
  url: string
  publicKey: string
  projectId: string
}

/** `https://<key>@o1.ingest.sentry.io/<project>` → the envelope URL and the key; undefined when malformed. */
export function parseDsn(dsn: string): Dsn | undefined {
  let url: URL
  try {
    url = new URL(dsn)
  } catch {
    return undefined
  }
  const path = url.pathname.replace(/\/+$/, '')
  const projectId = path.slice(path.lastIndexOf('/') + 1)
  if (!url.username || !/^\d+$/.test(projectId) || !/^https?:$/.test(url.protocol)) return undefined
  const prefix = path.slice(0, path.lastIndexOf('/'))
  return {
    url: `${url.protocol}//${url.host}${prefix}/api/${projectId}/envelope/`,
    publicKey: url.username,
    projectId,
  }
}

type Reason = 'queue_overflow' | 'ratelimit_backoff' | 'network_error' | 'send_error'

export interface SentryTransport {
  send(event: ErrorEvent): void
  /** Resolves once the queue is empty and no send is under way, or after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>
  counts(): { sent: number; dropped: Record<string, number> }
}

export function sentryTransport(dsn: Dsn, client = 'shipshape/0.1.0'): SentryTransport {
  const queue: ErrorEvent[] = []
  const pausedUntil = new Map<string, number>()
  const discarded = new Map<Reason, number>()
  const dropped: Record<string, number> = {}
  let sent = 0
  let active = 0
  const idle: (() => void)[] = []

  const drop = (reason: Reason, quantity = 1) => {
    discarded.set(reason, (discarded.get(reason) ?? 0) + quantity)
    dropped[reason] = (dropped[reason] ?? 0) + quantity
  }
  const paused = (category: string) =>
    Math.max(pausedUntil.get(category) ?? 0, pausedUntil.get('') ?? 0) > Date.now()

  function pump(): void {
    while (active < concurrency && queue.length > 0) {
      const event = queue.shift() as ErrorEvent
      active++
      void deliver(event).finally(() => {
        active--
        pump()
      })
    }
    if (active === 0 && queue.length === 0) for (const wake of idle.splice(0)) wake()
  }

  async function deliver(event: ErrorEvent): Promise<void> {
    if (paused('error')) return drop('ratelimit_backoff')
    const report = clientReport()
    const body = await gzip(envelope(event, dsn, report))
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(dsn.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-sentry-envelope',
            'content-encoding': 'gzip',
            'x-sentry-auth': `Sentry sentry_version=7, sentry_client=${client}, sentry_key=${dsn.publicKey}`,
          },
          body,
          signal: AbortSignal.timeout(sendTimeoutMs),
        })
        await response.body?.cancel()
        rateLimits(response)
        if (response.status === 429) return drop('ratelimit_backoff')
        if (response.ok) {
          sent++
          return
        }
        // A 4xx other than 429 will not get better by retrying.
        if (response.status < 500 || attempt >= attempts) return drop('send_error')
      } catch {
        if (attempt >= attempts) return drop('network_error')
      }
      await new Promise((resolve) => setTimeout(resolve, firstBackoffMs * 2 ** (attempt - 1)).unref())
    }
  }

  function rateLimits(response: Response): void {
    const header = response.headers.get('x-sentry-rate-limits')
    const now = Date.now()
    if (header) {
      // "60:error;transaction:organization, 2700::key": seconds, categories (none: all), scope.
      for (const limit of header.split(',')) {
        const [seconds, categories = ''] = limit.trim().split(':')
        const until = now + (Number(seconds) || 60) * 1000
        for (const category of categories === '' ? [''] : categories.split(';'))
          pausedUntil.set(category, until)
      }
    } else if (response.status === 429) {
      const after = Number(response.headers.get('retry-after'))
      pausedUntil.set('', now + (Number.isFinite(after) && after > 0 ? after * 1000 : defaultRateLimitMs))
    }
  }

  function clientReport(): string | undefined {
    if (discarded.size === 0) return undefined
    const discarded_events = [...discarded].map(([reason, quantity]) => ({
      reason,
      category: 'error',
      quantity,
    }))
    discarded.clear()
    return JSON.stringify({ timestamp: Date.now() / 1000, discarded_events })
  }

  return {
    send(event) {
      if (paused('error')) return drop('ratelimit_backoff')
      if (queue.length >= maxQueue) return drop('queue_overflow')
      queue.push(event)
      pump()
    },
    flush(timeoutMs = 5000) {
      if (active === 0 && queue.length === 0) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        idle.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    },
    counts: () => ({ sent, dropped: { ...dropped } }),
  }
}

function envelope(event: ErrorEvent, dsn: Dsn, report: string | undefined): string {
  const payload = JSON.stringify(event)
  const header = JSON.stringify({
    event_id: event.event_id,
    sent_at: new Date().toISOString(),
    dsn: dsnText(dsn),
  })
  let text = `${header}\n${JSON.stringify({ type: 'event', length: Buffer.byteLength(payload) })}\n${payload}\n`
  if (report)
    text += `${JSON.stringify({ type: 'client_report', length: Buffer.byteLength(report) })}\n${report}\n`
  return text
}

function dsnText(dsn: Dsn): string {
  const url = new URL(dsn.url)
  return `${url.protocol}//${dsn.publicKey}@${url.host}${url.pathname.replace(/\/api\/\d+\/envelope\/$/, '')}/${dsn.projectId}`
}
