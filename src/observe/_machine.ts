/**
 * The machine's own numbers, named as node_exporter names them so existing dashboards and alerts
 * apply: CPU time per mode, memory available, load, and the free space of the filesystems holding
 * the directories shipshape writes (the talk's "are you running out of disk space"). Read at each
 * scrape, asynchronously: the primary's event loop never waits on the disk.
 */
import { readFile, statfs } from 'node:fs/promises'
import { cpus, freemem, loadavg, totalmem } from 'node:os'
import { dirname } from 'node:path'

export interface MachineSample {
  cpus: { cpu: number; modes: Record<string, number> }[]
  memAvailableBytes: number
  memTotalBytes: number
  load: number[]
  disks: { path: string; purpose: string; availBytes: number; sizeBytes: number }[]
}

/** `dirs`: purpose → directory (data, media, …); a directory not made yet is measured at its nearest parent. */
export async function sampleMachine(dirs: Readonly<Record<string, string>>): Promise<MachineSample> {
  const disks = await Promise.all(
    Object.entries(dirs).map(async ([purpose, path]) => {
      for (let at = path; ; at = dirname(at)) {
        try {
          const stats = await statfs(at)
          return {
            path,
            purpose,
            availBytes: stats.bavail * stats.bsize,
            sizeBytes: stats.blocks * stats.bsize,
          }
        } catch (error) {
          if (at === dirname(at) || (error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined
        }
      }
    }),
  )
  return {
    // os.cpus() times are in milliseconds; node_exporter counts seconds.
    cpus: cpus().map(({ times }, cpu) => ({
      cpu,
      modes: {
        user: times.user / 1000,
        nice: times.nice / 1000,
        system: times.sys / 1000,
        idle: times.idle / 1000,
        irq: times.irq / 1000,
      },
    })),
    memAvailableBytes: await memAvailable(),
    memTotalBytes: totalmem(),
    load: loadavg(),
    disks: disks.filter((disk) => disk !== undefined),
  }
}

/** MemAvailable from /proc/meminfo (Linux), which counts reclaimable cache; elsewhere os.freemem(). */
async function memAvailable(): Promise<number> {
  try {
    const match = /^MemAvailable:\s+(\d+) kB$/m.exec(await readFile('/proc/meminfo', 'utf8'))
    if (match) return Number(match[1]) * 1024
  } catch {}
  return freemem()
}
