/** The cache's warnings, each kind logged at most once per interval with how many were left out. */
import { createLogger, type Logger } from '../observe/index.js'

/** How often the same kind of trouble (Redis down, a value too large) is logged, with a count. */
const logEveryMs = 30_000

export class Warnings {
  private readonly logged = new Map<string, { at: number; suppressed: number }>()

  constructor(
    private readonly cache: string,
    private logger: Logger | undefined,
  ) {}

  /** Logs the first of a kind, then at most once per logEveryMs with how many were left out. */
  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now()
    const last = this.logged.get(kind)
    if (last !== undefined && now - last.at < logEveryMs) {
      last.suppressed++
      return
    }
    this.logged.set(kind, { at: now, suppressed: 0 })
    this.logger ??= createLogger()
    this.logger.warn({ ...fields, cache: this.cache, alsoSince: last?.suppressed ?? 0 }, message)
  }
}
