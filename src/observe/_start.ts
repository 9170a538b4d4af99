/**
 * Error tracking as a `shipshape serve` worker runs it: the store on the database, the channels
 * from the settings, the retention sweep.
 */
import type { Logger } from 'pino'
import { type Notifier, slackNotifier, smtpNotifier, webhookNotifier } from './_notify.js'
import { parseDsn, sentryTransport } from './_sentry.js'
import type { ObserveOptions } from './_settings.js'
import { ErrorStore, type QueryPool } from './_store.js'
import { createTracker, type ErrorTracker } from './_tracker.js'

/** How often a worker applies retention; each run is a few DELETEs, so every worker may run it. */
const pruneEveryMs = 10 * 60_000

/** The worker's tracker; `pool` is the worker's database pool, when it has one. */
export function startErrorTracking(options: ObserveOptions, logger: Logger, pool?: QueryPool): ErrorTracker {
  const notifiers: Notifier[] = []
  if (options.email) notifiers.push(smtpNotifier(options.email))
  if (options.webhook) notifiers.push(webhookNotifier(options.webhook))
  if (options.slack) notifiers.push(slackNotifier(options.slack))
  const dsn = options.sentryDsn ? parseDsn(options.sentryDsn) : undefined
  const store = pool
    ? new ErrorStore(pool, { retentionMs: options.retentionMs, maxEventsPerIssue: options.maxEventsPerIssue })
    : undefined
  if (store) {
    const prune = () =>
      store.prune().catch((error: unknown) => logger.warn({ err: error }, 'error retention failed'))
    setInterval(prune, pruneEveryMs).unref()
  }
  return createTracker({
    logger,
    store,
    notifiers,
    identity: { release: options.release, environment: options.environment, serverName: options.serverName },
    notifyIntervalMs: options.notifyIntervalMs,
    forward: dsn ? sentryTransport(dsn) : undefined,
  })
}
