/**
 * Logs and metrics shared by every part of shipshape. Logs are pino JSON lines on stdout, or
 * readable text when stdout is a terminal; metrics live in one prom-client registry per process.
 */
import { createRequire } from 'node:module'
import pino, { type Logger } from 'pino'
import type { Registry } from 'prom-client'
import { batchedDestination } from './_batched.js'

export type { Logger } from 'pino'

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
}

/** How often a buffered logger writes what it holds, so a quiet worker's lines are never late. */
const flushEveryMs = 1000

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info'
  if (options.pretty ?? process.stdout.isTTY === true) {
    // Loaded only for terminals: production workers never pay for the formatter.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')
    return pino({ level }, pretty({ colorize: true, sync: true }))
  }
  const base = { level, base: { pid: process.pid } }
  if (options.buffered === false) return pino(base, pino.destination({ sync: true }))
  const logger = pino(base, batchedDestination(1))
  setInterval(() => logger.flush(), flushEveryMs).unref()
  return logger
}

type PromClient = typeof import('prom-client')
type Definition = (client: PromClient, registry: Registry) => void

const definitions: Definition[] = []
let loaded: { client: PromClient; registry: Registry } | undefined
let loading: Promise<Registry> | undefined

/**
 * Declares metrics, created when the registry is first read. Until then the code that feeds
 * them counts in plain numbers: prom-client costs about 15 MB of memory and 50 ms of start-up
 * per process, which a worker that is never scraped should not pay.
 */
export function defineMetrics(define: Definition): void {
  definitions.push(define)
  if (loaded) define(loaded.client, loaded.registry)
}

/** The process's metrics registry, with every declared metric; /metrics serves what it holds. */
export function metricsRegistry(): Promise<Registry> {
  loading ??= import('prom-client').then((client) => {
    const registry = new client.Registry()
    loaded = { client, registry }
    for (const define of definitions) define(client, registry)
    return registry
  })
  return loading
}
