/**
 * The primary's part of the APM (docs/db-apm.md): the hourly rollup of the workers' per-route
 * windows, periodic work that runs once per instance, not once per worker. Loaded only when the
 * APM writes windows to a database, so a primary without one never loads pg.
 */
import type { Logger } from '../observe/index.js'
import type { ServeOptions } from './_composed.js'

export function startPrimaryRollup(
  options: ServeOptions,
  logger: Logger,
): Promise<{ stop(): Promise<void> } | undefined> | undefined {
  const { apm, database } = options
  if (!apm.enabled || apm.rollupIntervalMs === 0) return undefined
  if (database.url === '' && !database.embedded) return undefined
  return import('../db/index.js')
    .then(({ startRouteRollup }) => startRouteRollup(database, apm.hourlyRetentionDays ?? 30, logger))
    .catch((error: unknown) => {
      logger.error({ err: error }, 'the hourly APM rollup could not start')
      return undefined
    })
}
