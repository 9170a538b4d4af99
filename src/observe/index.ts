/**
 * Logs, errors and metrics shared by every part of shipshape. Logs are pino JSON lines on stdout,
 * or readable text when stdout is a terminal, with secrets masked; errors go to the worker's
 * tracker (grouped, stored, notified); metrics are plain numbers each worker sends the primary with
 * its heartbeat (the pipeline's, and the families capabilities contribute), summed there.
 */
import { createRequire } from 'node:module'
import pino, { type Logger } from 'pino'
import { getContext, workerState } from '../http/index.js'
import { batchedDestination } from './_batched.js'
import { recordBreadcrumb } from './_breadcrumbs.js'
import type { CaptureOptions, Level } from './_event.js'
import { secretMask, withMaskedChildren } from './_redact.js'

export type { Logger } from 'pino'
export { MetricsAggregator, type WorkerMetrics } from './_aggregate.js'
export { addBreadcrumb } from './_breadcrumbs.js'
export type { CaptureOptions, ErrorEvent, Level } from './_event.js'
export {
  collectFamilies,
  contributeMetrics,
  type FamilyDefinition,
  type HistogramSample,
  type MetricFamily,
  type ValueSample,
} from './_families.js'
export { groupingOf, normaliseMessage } from './_fingerprint.js'
export { sentryIngest } from './_ingest.js'
export type { TagDistribution } from './_issue-tags.js'
export { sampleMachine } from './_machine.js'
export {
  type Delivery,
  type DeliveryCounts,
  deliver,
  type Notification,
  type Notifier,
  postJson,
  slackNotifier,
  smtpNotifier,
  webhookNotifier,
} from './_notify.js'
export { type ProcessSample, sampleProcess } from './_process.js'
export { startErrorTracking } from './_start.js'
export { ErrorStore, type Issue, type QueryPool, type Reason } from './_store.js'
export { setTag, tagsOf } from './_tags.js'
export { createTracker, type ErrorTracker } from './_tracker.js'

/**
 * Keys whose values are masked (`[Redacted]`) in every log line, at the top level and two levels
 * down (`req.headers.authorization`), besides the `redact` option's own. The config's secret
 * settings are among them by name.
 */
export const redactedKeys = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'password',
  'passwd',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'clientSecret',
  'apiKey',
  'api_key',
  'signingKeys',
  'smtpUrl',
  'notifyWebhook',
  'notifySlack',
  'sentryDsn',
  'databaseUrl',
] as const

export interface LoggerOptions {
  /** Minimum level written. Default: `info`. */
  level?: string
  /** Readable text instead of JSON. Default: when stdout is a terminal. */
  pretty?: boolean
  /**
   * Write JSON in batches of about 16 KiB, flushed at least every second. Default: true. A busy
   * worker saves a write per request this way; the cost is that a SIGKILL loses up to a second
   * of lines, which is why the primary, whose lines are rare and matter most, writes at once.
   */
  buffered?: boolean
  /** Further keys to mask in every line, besides redactedKeys. Default none. */
  redact?: readonly string[]
  /**
   * Keep the lines logged during a request as breadcrumbs of its error reports. Default: true.
   * Costs a context lookup and a small object per line in a request; off where no error tracker
   * reads them (shipshape/lambda).
   */
  breadcrumbs?: boolean
}

/** How often a buffered logger writes what it holds, so a quiet worker's lines are never late. */
const flushEveryMs = 1000

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info'
  const mask = secretMask([...redactedKeys, ...(options.redact ?? [])])
  const shared = {
    level,
    formatters: { log: mask },
    // Each line logged during a request is kept as a breadcrumb of that request's error reports.
    ...(options.breadcrumbs === false
      ? {}
      : {
          hooks: {
            logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info'], level: number) {
              recordBreadcrumb(level, args, mask)
              return method.apply(this, args)
            },
          },
        }),
  }
  if (options.pretty ?? process.stdout.isTTY === true) {
    // Loaded only for terminals: production workers never pay for the formatter.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')
    return withMaskedChildren(pino(shared, pretty({ colorize: true, sync: true })), mask)
  }
  const base = { ...shared, base: { pid: process.pid } }
  if (options.buffered === false)
    return withMaskedChildren(pino(base, pino.destination({ sync: true })), mask)
  const logger = withMaskedChildren(pino(base, batchedDestination(1)), mask)
  setInterval(() => logger.flush(), flushEveryMs).unref()
  return logger
}

/**
 * Reports an error the app handled itself (or cannot otherwise report) to the worker's error
 * tracker, with the current request when there is one. Costs a snapshot; the rest happens off
 * the request path. Outside `shipshape serve` (no tracker), the error is logged.
 */
export function captureError(error: unknown, options: CaptureOptions = {}): void {
  const ctx = getContext()
  const tracker = workerState()?.errors
  if (tracker) tracker.capture(error, { ...options, ctx, kind: 'manual' })
  else fallbackLogger().error({ err: error, ...options }, 'captured error')
}

/** Reports a message (level `info` unless given) the way captureError() reports an error. */
export function captureMessage(message: string, options: CaptureOptions | Level = {}): void {
  const hints = typeof options === 'string' ? { level: options } : { level: 'info' as const, ...options }
  const tracker = workerState()?.errors
  if (tracker) tracker.capture(message, { ...hints, ctx: getContext(), kind: 'manual' })
  else fallbackLogger()[hints.level === 'warning' ? 'warn' : hints.level](hints, message)
}

let fallback: Logger | undefined
/** Made on first use, for captures outside `shipshape serve`. */
function fallbackLogger(): Logger {
  fallback ??= createLogger()
  return fallback
}
