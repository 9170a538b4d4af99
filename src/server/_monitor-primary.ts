/**
 * The primary's part of uptime checks and alerting (docs/monitor.md): the probes and the alert
 * logic run here, not in a worker, and are loaded only when something is monitored. A monitor
 * that fails to start is logged; the server serves on without it.
 */
import type { Server } from 'node:net'
import { isMonitoring } from '../monitor/settings.js'
import type { Logger } from '../observe/index.js'
import type { ServeOptions } from './_composed.js'
import type { PrimaryMetrics } from './_metrics-primary.js'

export function startPrimaryMonitor(
  options: ServeOptions,
  logger: Logger,
  metrics: PrimaryMetrics,
  listener: Server,
): Promise<{ stop(): Promise<void> } | undefined> | undefined {
  if (!isMonitoring(options.monitor)) return undefined
  return import('../monitor/index.js')
    .then(({ startMonitor }) => startMonitor(options, logger, metrics, selfUrl(options, listener)))
    .catch((error: unknown) => {
      logger.error({ err: error }, 'the monitor could not start')
      return undefined
    })
}

/** How the primary reaches its own listener: a wildcard address is reached on loopback. */
function selfUrl(options: ServeOptions, listener: Server): string {
  const address = listener.address()
  if (address === null || typeof address === 'string') return 'http://localhost'
  const host = { '0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1' }[address.address] ?? address.address
  return `${options.tlsCertFile ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`
}
