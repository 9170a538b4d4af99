/**
 * The Servers page's data: the primary records one sample of its instance every
 * console.sampleInterval (a minute by default) into the database: the machine's CPU, memory and
 * disk, its workers' resident memory and their worst event-loop lag (from the heartbeats the
 * primary already receives). Everything is asynchronous and bounded: a sample still being written
 * when the next is due is skipped, a statement waits at most 5 s, and a failure is a log line.
 */
import { cpus, hostname } from 'node:os'
import type { Database, DatabaseOptions } from '../db/index.js'
import { type Logger, sampleMachine } from '../observe/index.js'
import type { ConsoleServeOptions } from './_settings.js'
import type { ConsoleStore } from './_store.js'

export interface SamplerHost extends ConsoleServeOptions {
  database: DatabaseOptions
  media: { driver?: string; root?: string }
}

/** What the primary knows of its workers: each one's latest heartbeat sample. */
export interface WorkerSample {
  residentBytes: number
  eventLoopLagSeconds: number
}

/** Pruned once an hour: a DELETE on an index, cheap. */
const pruneEveryMs = 3_600_000

function cpuTimes(): { busy: number; total: number } {
  let busy = 0
  let total = 0
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq
    total += all
    busy += all - times.idle
  }
  return { busy, total }
}

export function startSampler(
  options: SamplerHost,
  logger: Logger,
  workers: () => readonly WorkerSample[],
): { stop(): Promise<void> } | undefined {
  const { console: settings, database } = options
  if (!settings.enabled || settings.sampleIntervalMs <= 0) return undefined
  if (database.url === '' && !database.embedded) return undefined
  const dirs: Record<string, string> = {
    data: database.embedded && !database.url ? database.dataDir : process.cwd(),
  }
  if (options.media.driver === 'local' && options.media.root) dirs.media = options.media.root
  let db: Database | undefined
  let store: ConsoleStore | undefined
  let busy = false
  let lastCpu = cpuTimes()
  let lastPrune = 0
  const host = hostname()

  async function sample(): Promise<void> {
    if (busy) return
    busy = true
    try {
      if (store === undefined) {
        // pg and the store load with the first sample: the primary stays small until then.
        const [{ openDatabase }, { ConsoleStore }] = await Promise.all([
          import('../db/index.js'),
          import('./_store.js'),
        ])
        db = openDatabase({ ...database, poolSize: 1, statementTimeoutMs: 5000 }, logger)
        store = new ConsoleStore(db.pool)
      }
      const machine = await sampleMachine(dirs)
      const cpu = cpuTimes()
      const spent = cpu.total - lastCpu.total
      const cpuPercent = spent > 0 ? (100 * (cpu.busy - lastCpu.busy)) / spent : 0
      lastCpu = cpu
      const disk = machine.disks.find((entry) => entry.purpose === 'data')
      const seen = workers()
      await store.addSample({
        at: Date.now(),
        host,
        workers: seen.length,
        cpuPercent,
        memUsedBytes: machine.memTotalBytes - machine.memAvailableBytes,
        memTotalBytes: machine.memTotalBytes,
        rssBytes: seen.reduce((sum, worker) => sum + worker.residentBytes, 0),
        diskFreeBytes: disk?.availBytes ?? 0,
        diskSizeBytes: disk?.sizeBytes ?? 0,
        loopLagMs: Math.max(0, ...seen.map((worker) => worker.eventLoopLagSeconds * 1000)),
        load1: machine.load[0] ?? 0,
      })
      if (Date.now() - lastPrune > pruneEveryMs) {
        lastPrune = Date.now()
        await store.prune(Date.now(), settings.retentionMs)
      }
    } catch (error) {
      logger.warn({ err: error }, 'console: a server sample could not be recorded')
    } finally {
      busy = false
    }
  }

  const timer = setInterval(() => void sample(), settings.sampleIntervalMs).unref()
  return {
    async stop() {
      clearInterval(timer)
      await db?.close().catch(() => {})
    },
  }
}
