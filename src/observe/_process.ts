/**
 * A process's own numbers (CPU, memory, event-loop lag): each worker sends them with its timed
 * heartbeat, and the primary adds its own when it renders the metrics.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface ProcessSample {
  cpuSeconds: number
  residentBytes: number
  heapUsedBytes: number
  heapTotalBytes: number
  /** The 99th percentile of the event loop's delay since the previous sample, in seconds. */
  eventLoopLagSeconds: number
}

let loopDelay: ReturnType<typeof monitorEventLoopDelay> | undefined

/** This process's own numbers; the event-loop delay monitor starts on the first call. */
export function sampleProcess(): ProcessSample {
  if (loopDelay === undefined) {
    loopDelay = monitorEventLoopDelay({ resolution: 20 })
    loopDelay.enable()
  }
  const cpu = process.cpuUsage()
  const memory = process.memoryUsage()
  const lag = loopDelay.count > 0 ? loopDelay.percentile(99) / 1e9 : 0
  loopDelay.reset()
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    residentBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    eventLoopLagSeconds: lag,
  }
}
