/**
 * The worker's error tracker. `capture()` runs on the request path and only takes a snapshot
 * into a bounded queue; every 250 ms the queue is drained off it: events are built, grouped,
 * logged with their issue id, coalesced per issue (10,000 identical errors are one write and at
 * most one notification), recorded, and notified when the store says they deserve it.
 */
import type { Logger } from 'pino'
import { routeName } from '../http/index.js'
import { breadcrumbsOf } from './_breadcrumbs.js'
import {
  buildEvent,
  type CaptureHints,
  culpritOf,
  type ErrorEvent,
  type Identity,
  type Snapshot,
  snapshot,
  titleOf,
} from './_event.js'
import { groupingOf } from './_fingerprint.js'
import type { TagCount } from './_issue-tags.js'
import {
  type DeliveryCounts,
  type DeliveryOptions,
  deliver,
  type Notification,
  type Notifier,
} from './_notify.js'
import type { SentryTransport } from './_sentry.js'
import { SourceCache } from './_stack.js'
import type { ErrorStore, Reason } from './_store.js'
import { tagsOf } from './_tags.js'

/** How often captured errors are processed: the delay before an error is logged and stored. */
const drainEveryMs = 250
/** Snapshots held at most; beyond, new errors are dropped and counted (a storm must not eat the heap). */
const maxQueue = 5000

export interface ErrorTracker {
  /** Takes a snapshot of the error and its request; the rest happens off the request path. */
  capture(error: unknown, hints?: CaptureHints): void
  /**
   * Sends a notification of another capability's (auth's lockouts) through the channels errors
   * use, in the background: never thrown, never waited for; flush() waits for it too.
   */
  notify(notification: Notification): void
  /** Resolves once everything captured so far is logged, stored and notified (or given up). */
  flush(): Promise<void>
  /** Errors captured, dropped because the queue was full, and notifications sent or failed. */
  counts(): { captured: number; dropped: number; forwardDropped: number; deliveries: DeliveryCounts }
}

export interface TrackerOptions {
  logger: Logger
  /** Where issues are kept; without one, issues live in this process only (and so does notification throttling). */
  store?: ErrorStore
  notifiers: readonly Notifier[]
  identity: Identity
  /** At most one notification per issue per interval. Default 30 minutes. */
  notifyIntervalMs?: number
  delivery?: DeliveryOptions
  /** Every event is also sent there (a Sentry-compatible server, with SENTRY_DSN). */
  forward?: SentryTransport
}

declare module '../types.js' {
  interface WorkerState {
    /** observe: the worker's error tracker, which the pipeline hands every failure to. */
    readonly errors?: ErrorTracker
  }
}

interface Group {
  issue: string
  event: ErrorEvent
  count: number
  /** Events per tag value, by `key\nvalue`: the store counts each event's own tags, not the latest's. */
  tags: Map<string, TagCount>
}

export function createTracker(options: TrackerOptions): ErrorTracker {
  const { logger, store, notifiers, identity } = options
  const intervalMs = options.notifyIntervalMs ?? 30 * 60_000
  const sources = new SourceCache()
  const queue: Snapshot[] = []
  const deliveries: DeliveryCounts = { sent: {}, failed: {} }
  const sending = new Set<Promise<unknown>>()
  /** Without a store: when this process last notified about each issue. */
  const notifiedAt = new Map<string, number>()
  let captured = 0
  let dropped = 0
  let chain: Promise<void> = Promise.resolve()

  // Made here, outside any request: the drain runs outside every request's context.
  setInterval(() => {
    if (queue.length > 0) void drain()
  }, drainEveryMs).unref()

  function drain(): Promise<void> {
    const batch = queue.splice(0)
    chain = chain
      .then(() => processBatch(batch))
      .catch((error: unknown) => logger.warn({ err: error }, 'error tracking failed'))
    return chain
  }

  async function processBatch(batch: Snapshot[]): Promise<void> {
    const groups = new Map<string, Group>()
    for (const taken of batch) {
      const made = taken.hints.event
      const event = made
        ? { ...made, tags: { ...made.tags, kind: 'sentry' } }
        : await buildEvent(taken, identity, sources)
      const exception = event.exception?.values[0]
      const { issue } = groupingOf({
        type: exception?.type,
        message: exception?.value ?? event.message?.formatted ?? '',
        frames: exception?.stacktrace?.frames ?? [],
        fingerprint: taken.hints.fingerprint ?? event.fingerprint ?? defaultFingerprint(taken),
      })
      logCaptured(taken, event, issue)
      options.forward?.send(event)
      let group = groups.get(issue)
      if (group) {
        group.count++
        group.event = event
      } else {
        group = { issue, event, count: 1, tags: new Map() }
        groups.set(issue, group)
      }
      for (const [key, value] of Object.entries(event.tags)) {
        if (key === 'request_id') continue // unique per event: a distribution of ones
        const tag = `${key}\n${value}`
        const counted = group.tags.get(tag)
        if (counted) counted.count++
        else group.tags.set(tag, { key, value, count: 1 })
      }
    }
    for (const group of groups.values()) await record(group)
  }

  function logCaptured(taken: Snapshot, event: ErrorEvent, issue: string): void {
    const request = taken.request
    const fields = {
      issue,
      eventId: event.event_id,
      ...(request ? { requestId: request.id, method: request.method, path: request.url.split('?')[0] } : {}),
    }
    const kind = taken.hints.kind ?? 'manual'
    if (kind === 'request' || kind === 'manual') {
      const level = event.level === 'warning' ? 'warn' : event.level
      const message = kind === 'request' ? 'the app failed to handle the request' : titleOf(event)
      logger[level]({ err: taken.error instanceof Error ? taken.error : undefined, ...fields }, message)
    } else {
      // The timeout, the crash and the kill were logged where they happened: this links them to their issue.
      logger.info(fields, `${kind} recorded as issue ${issue}`)
    }
  }

  async function record(group: Group): Promise<void> {
    const { issue, event, count } = group
    const occurrence = {
      issue,
      tags: [...group.tags.values()],
      title: titleOf(event),
      culprit: culpritOf(event),
      level: event.level,
      release: event.release,
      count,
      event,
      at: new Date(event.timestamp * 1000),
    }
    let reason: Reason | undefined
    let claimed = false
    try {
      if (store) {
        reason = await store.record(occurrence)
        claimed = reason !== undefined && (await store.claimNotification(issue, intervalMs))
      } else {
        reason = notifiedAt.has(issue) ? undefined : 'new'
        const last = notifiedAt.get(issue)
        claimed = reason !== undefined && (last === undefined || Date.now() - last >= intervalMs)
      }
    } catch (error) {
      logger.warn({ err: error, issue }, 'error tracking: the issue could not be stored')
      return
    }
    if (!claimed || reason === undefined) return
    notifiedAt.set(issue, Date.now())
    if (notifiers.length === 0) return
    const headline = { new: 'New issue', regression: 'Regression', unmuted: 'Unmuted', spike: 'Spike' }[
      reason
    ]
    const notification = {
      title: `${headline}${identity.environment ? ` [${identity.environment}]` : ''}: ${occurrence.title}`,
      text: `${occurrence.culprit}\n${count} event(s) just now${event.tags.route ? ` on ${event.request?.method} ${event.tags.route}` : ''}.`,
      fields: {
        issue,
        level: event.level,
        ...(event.release ? { release: event.release } : {}),
        ...(event.server_name ? { server: event.server_name } : {}),
        ...(event.tags.request_id ? { 'request id': event.tags.request_id } : {}),
      },
      key: issue,
    }
    send(notification)
  }

  function send(notification: Notification): void {
    if (notifiers.length === 0) return
    const sent = deliver(notifiers, notification, logger, deliveries, options.delivery).finally(() =>
      sending.delete(sent),
    )
    sending.add(sent)
  }

  return {
    capture(error, hints = {}) {
      if (queue.length >= maxQueue) {
        dropped++
        return
      }
      captured++
      const tags = tagsOf(hints.ctx)
      const tagged = tags ? { ...hints, tags: { ...tags, ...hints.tags } } : hints
      queue.push(
        snapshot(error, { kind: hints.ctx ? 'request' : 'manual', ...tagged }, routeName, breadcrumbsOf),
      )
    },
    notify: send,
    async flush() {
      await drain()
      await Promise.all([...sending, options.forward?.flush()])
    },
    counts: () => {
      const forwardDropped = Object.values(options.forward?.counts().dropped ?? {}).reduce((a, b) => a + b, 0)
      return { captured, dropped, forwardDropped, deliveries }
    },
  }
}

/** Timeouts group by route, whatever the request was awaiting. */
function defaultFingerprint(taken: Snapshot): string[] | undefined {
  if (taken.hints.kind !== 'timeout' || !taken.request) return undefined
  return ['timeout', taken.request.method, taken.request.route]
}
