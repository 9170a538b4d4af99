/**
 * This process's contributed metric families as the primary renders them on /metrics: collected
 * as a worker's heartbeat collects them, summed and rendered by the primary's aggregator.
 */
import { collectFamilies, MetricsAggregator, sampleProcess } from '../observe/index.js'

export function contributedMetrics(): Promise<string> {
  const aggregator = new MetricsAggregator()
  const webSockets = { open: 0, closed: 0, bytesIn: 0, bytesOut: 0 }
  aggregator.receive(process.pid, {
    http: { series: [], timeouts: 0, inflight: 0, webSockets },
    families: collectFamilies(true),
  })
  return aggregator.render(false, sampleProcess())
}
