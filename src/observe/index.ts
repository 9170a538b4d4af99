/**
 * Logs and metrics shared by every part of shipshape. Logs are pino JSON lines on stdout, or
 * readable text when stdout is a terminal; metrics live in one prom-client registry per process.
 */
import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'
import { Registry } from 'prom-client'

export type { Logger } from 'pino'

export interface LoggerOptions {
  /** Minimum level written. Default: `info`. */
  level?: string
  /** Readable text instead of JSON. Default: when stdout is a terminal. */
  pretty?: boolean
}

/**
 * A logger writing to stdout. JSON is written asynchronously in batches (a crash can lose the
 * last few lines, which the primary's own log of the exit makes up for); text is for people.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info'
  const human = options.pretty ?? process.stdout.isTTY === true
  if (human) return pino({ level }, pretty({ colorize: true, sync: true }))
  return pino({ level, base: { pid: process.pid } }, pino.destination({ sync: false, minLength: 4096 }))
}

/** The process's metrics registry; /metrics serves what it holds. */
export const registry = new Registry()
