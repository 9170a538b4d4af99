/**
 * shipshape/monitor: uptime checks from the server's primary process and from agents elsewhere
 * (`shipshape monitor`), heartbeats for jobs, alert rules (the site down, a check failing, slow
 * answers, certificates, heartbeats, disk space, error-budget burn) and notifications with
 * Alertmanager's grouping, repeat, inhibition and silences. See docs/monitor.md.
 */

import type { DatabaseOptions } from '../db/index.js'
import { ShipshapeError } from '../errors/index.js'
import { workerState } from '../http/index.js'
import type { Logger } from '../observe/index.js'
import { MonitorRunner } from './_runner.js'
import type { MonitorOptions } from './_settings.js'
import { MonitorStore } from './_store.js'

export { type Agent, type AgentOptions, startAgent } from './_agent.js'
export type { Check, Heartbeat } from './_checks.js'
export type { Silence } from './_dispatch.js'
export { type ProbeResult, probe } from './_probe.js'
export type { MonitorOptions } from './_settings.js'
export { MonitorStore, type Uptime } from './_store.js'
export { isMonitoring, monitorEndpoint } from './endpoint.js'

/** What the primary gives the monitor: its options, and its metrics to read from and add to. */
export interface MonitorServer {
  monitor: MonitorOptions
  observe: { email: { url: string; from: string; to: string[] } | undefined; slack: string | undefined }
  database: DatabaseOptions
  media: { driver?: string; root?: string }
}

/** The primary's metrics: the request counters it sums, and a place for the monitor's own. */
export interface PrimaryMetricsHook {
  requestTotals(): { total: number; errors: number }
  addSection(render: (openMetrics: boolean) => string): void
}

/** Starts probing and alerting in the primary; resolves once it runs, with a way to stop it. */
export async function startMonitor(
  options: MonitorServer,
  logger: Logger,
  metrics: PrimaryMetricsHook,
  selfUrl: string,
): Promise<{ stop(): Promise<void> }> {
  const { database, media } = options
  // The data directory is the embedded database's, where there is one; else the working directory.
  const dirs: Record<string, string> = {
    data: database.embedded && !database.url ? database.dataDir : process.cwd(),
  }
  if (media.driver === 'local' && media.root) dirs.media = media.root
  const runner = new MonitorRunner({
    monitor: options.monitor,
    observe: options.observe,
    database,
    logger,
    requestTotals: () => metrics.requestTotals(),
    dirs,
    externalUrl: '',
    selfUrl,
  })
  metrics.addSection((openMetrics) => runner.metrics(openMetrics))
  await runner.start()
  return runner
}

/**
 * Records a heartbeat ping from app code in a `shipshape serve` worker (a job on a timer, a queue
 * consumer), as the ping URL would: `success` (default), `start`, or `fail` with an exit code.
 * The heartbeat must be declared in monitor.heartbeats. Throws SHIPSHAPE_E_DB_NO_POOL outside a
 * worker with a database.
 */
export async function heartbeat(
  name: string,
  kind: 'success' | 'start' | 'fail' = 'success',
  exitCode?: number,
): Promise<void> {
  const pool = workerState()?.db?.pool
  if (pool === undefined) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_DB_NO_POOL',
      'heartbeat() needs a `shipshape serve` worker with a database',
    )
  }
  await new MonitorStore(pool).addPing({
    heartbeat: name,
    kind,
    at: Date.now(),
    ...(exitCode === undefined ? {} : { exitCode }),
  })
}
