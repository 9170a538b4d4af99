/**
 * The machine's own numbers, named as node_exporter names them so existing dashboards and alerts
 * apply: CPU time per mode, memory available, load, and the free space of the filesystems holding
 * the directories shipshape writes (the talk's "are you running out of disk space"). Read at each
 * scrape, asynchronously: the primary's event loop never waits on the disk.
 */
import { readFile, statfs } from 'node:fs/promises'
import { cpus, freemem, loadavg, totalmem } from 'node:os'
import { dirname } from 'node:path'
import { escapeLabel } from './_families.js'

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

/** The machine's families, through the aggregator's `family` and `sample`. */
export function renderMachine(
  machine: MachineSample,
  family: (name: string, type: 'counter' | 'gauge', help: string) => void,
  sample: (name: string, labels: string, value: number) => void,
): void {
  family('node_cpu_seconds_total', 'counter', 'Seconds the CPUs spent in each mode.')
  for (const cpu of machine.cpus)
    for (const [mode, seconds] of Object.entries(cpu.modes))
      sample('node_cpu_seconds_total', `cpu="${cpu.cpu}",mode="${mode}"`, seconds)
  family(
    'node_memory_MemAvailable_bytes',
    'gauge',
    'Memory available for starting new applications, without swapping.',
  )
  sample('node_memory_MemAvailable_bytes', '', machine.memAvailableBytes)
  family('node_memory_MemTotal_bytes', 'gauge', 'Total usable memory.')
  sample('node_memory_MemTotal_bytes', '', machine.memTotalBytes)
  for (const [index, minutes] of ['1', '5', '15'].entries()) {
    family(`node_load${minutes}`, 'gauge', `${minutes}-minute load average.`)
    sample(`node_load${minutes}`, '', machine.load[index] as number)
  }
  family(
    'node_filesystem_avail_bytes',
    'gauge',
    'Bytes available to unprivileged users on the filesystem holding each directory shipshape writes.',
  )
  for (const disk of machine.disks)
    sample(
      'node_filesystem_avail_bytes',
      `mountpoint="${escapeLabel(disk.path)}",purpose="${disk.purpose}"`,
      disk.availBytes,
    )
  family(
    'node_filesystem_size_bytes',
    'gauge',
    'Size of the filesystem holding each directory shipshape writes.',
  )
  for (const disk of machine.disks)
    sample(
      'node_filesystem_size_bytes',
      `mountpoint="${escapeLabel(disk.path)}",purpose="${disk.purpose}"`,
      disk.sizeBytes,
    )
}
