/** Apart from the settings (zod) and the probes (pg): both the primary and every worker ask it at start. */
import type { MonitorOptions } from './_settings.js'

/** Whether there is anything to monitor: the primary's probes and the workers' endpoint start only then. */
export function isMonitoring(monitor: Pick<MonitorOptions, 'checks' | 'heartbeats'>): boolean {
  return monitor.checks.length > 0 || monitor.heartbeats.length > 0
}
