/**
 * What every page and action is given: the request, the worker's pool, the signed-in user, the
 * console's options and the parts of the server's options it shows (the monitor's checks and
 * objective, the settings `check --deploy` reads, the APM's slow-request thresholds).
 */
import type { SignedInUser } from '../auth/index.js'
import type { AuthServeOptions } from '../auth/settings.js'
import type { CheckSettings } from '../checks/index.js'
import type { ApmOptions } from '../db/index.js'
import type { MonitorOptions } from '../monitor/index.js'
import type { QueryPool } from '../observe/index.js'
import type { RequestContext } from '../types.js'
import type { Shell } from './_layout.js'
import type { ConsoleServeOptions } from './_settings.js'

/** The server options the console reads: its own, and what it shows of the others'. */
export type ConsoleHost = ConsoleServeOptions &
  CheckSettings & {
    monitor: MonitorOptions
    auth: AuthServeOptions['auth']
    cache: { redisUrl?: string; prefix: string }
    /** Each route's slow-request threshold, shown and compared with its p95 on the Endpoints pages. */
    apm: Pick<ApmOptions, 'slowRequestMs' | 'routeThresholds'>
  }

export interface View extends Shell {
  ctx: RequestContext
  pool: QueryPool
  user: SignedInUser
  host: ConsoleHost
  query: URLSearchParams
  now: number
}

export const hourMs = 3_600_000
export const dayMs = 86_400_000
