/**
 * Shared tools for the benchmarks: start servers as real processes, drive them with wrk on
 * loopback, and read their memory from /proc. Every figure is reported as a ratio against an
 * anchor measured in the same run, because this machine is shared and absolute numbers drift.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'

export const root = new URL('..', import.meta.url).pathname

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Starts a command in its own process group, so that stopping it stops all its workers too. */
/** `stdout`: a file descriptor to keep the process's output (its log) in; default: discarded. */
export function start(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  stdout: number | 'ignore' = 'ignore',
): ChildProcess {
  return spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', stdout, 'inherit'],
  })
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    process.kill(-(child.pid as number), signal)
  } catch {}
  await exited
}

export async function waitForOk(url: string, timeoutMs = 20_000): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    try {
      const response = await fetch(url)
      await response.arrayBuffer()
      if (response.ok) return performance.now() - started
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`)
}

export interface LoadResult {
  rps: number
  p50Ms: number
  p99Ms: number
  requests: number
  /** Socket errors plus responses that were not 2xx or 3xx. */
  failures: number
}

function toMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text)
  if (!match) throw new Error(`unreadable wrk latency: ${text}`)
  const value = Number(match[1])
  return { us: value / 1000, ms: value, s: value * 1000, m: value * 60_000 }[
    match[2] as 'us' | 'ms' | 's' | 'm'
  ]
}

/** Runs wrk with keep-alive connections and its latency distribution. */
export async function wrk(
  url: string,
  options: {
    seconds: number
    connections: number
    threads?: number
    headers?: string[]
    timeoutSeconds?: number
  },
): Promise<LoadResult> {
  const args = [
    ...(options.headers ?? []).flatMap((header) => ['-H', header]),
    // wrk's default of 2 s counts slower answers as timeouts, leaving them out of the latencies.
    ...(options.timeoutSeconds ? ['--timeout', `${options.timeoutSeconds}s`] : []),
    '--latency',
    `-t${options.threads ?? 2}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    url,
  ]
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args)
    let text = ''
    child.stdout.on('data', (chunk) => {
      text += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`)),
    )
  })
  const line = (pattern: RegExp) => pattern.exec(output)?.slice(1) ?? []
  const [p50] = line(/^\s+50%\s+(\S+)/m)
  const [p99] = line(/^\s+99%\s+(\S+)/m)
  const [requests] = line(/(\d+) requests in/)
  const [rps] = line(/Requests\/sec:\s+([\d.]+)/)
  const [non2xx] = line(/Non-2xx or 3xx responses: (\d+)/)
  const socketErrors = line(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/)
  return {
    rps: Number(rps),
    p50Ms: toMs(p50 as string),
    p99Ms: toMs(p99 as string),
    requests: Number(requests),
    failures: Number(non2xx ?? 0) + socketErrors.reduce((sum, n) => sum + Number(n), 0),
  }
}

export function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
  } catch (error) {
    // wrk exits 1 after printing its version; only a missing binary is a problem.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return
    console.error('wrk is not installed; installing it from Debian packages…')
    execFileSync(
      'sh',
      [
        '-c',
        'apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null)',
      ],
      { stdio: 'inherit' },
    )
  }
}

/** Every process below `pid`, found through /proc's child lists. */
export function descendants(pid: number): number[] {
  let children: number[] = []
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number)
  } catch {}
  return children.flatMap((child) => [child, ...descendants(child)])
}

/** CPU seconds (user + system) used so far by one process, from /proc; 0 once it has ended. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    // Linux's USER_HZ, 100 on every architecture Node runs on.
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

/**
 * CPU seconds (user + system) used so far by `pid` and every process below it, from /proc: what a
 * server spent, whatever else the machine was doing. A process that ended in between is not counted.
 */
export function treeCpuSeconds(pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, one) => sum + cpuSeconds(one), 0)
}

/** Peak resident memory of a live process, in MB (the kernel's high-water mark). */
export function peakRssMb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/** Resident (RSS), proportional (PSS: shared pages split between their users) and anonymous memory of a live process, in MB. */
export function memoryMb(pid: number): { rss: number; pss: number; anonymous: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
    return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024, anonymous: kb('Anonymous') / 1024 }
  } catch {
    return { rss: 0, pss: 0, anonymous: 0 }
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export function printTable(rows: Record<string, string | number>[]): void {
  const headers = Object.keys(rows[0] ?? {})
  const cells = rows.map((row) => headers.map((header) => String(row[header])))
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => (row[i] as string).length)),
  )
  const format = (values: string[]) =>
    `| ${values.map((value, i) => value.padEnd(widths[i] as number)).join(' | ')} |`
  console.log(format(headers))
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`)
  for (const row of cells) console.log(format(row))
}

/** Installs the Debian packages whose files (path → package) are missing, with apt-get. */
export function ensureDebian(packages: Record<string, string>): void {
  const missing = Object.entries(packages)
    .filter(([path]) => !existsSync(path))
    .map(([, name]) => name)
  if (missing.length === 0) return
  console.error(`installing ${missing.join(', ')} from Debian packages…`)
  execFileSync(
    'sh',
    ['-c', `apt-get update >/dev/null && apt-get install -y ${missing.join(' ')} >/dev/null`],
    {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  )
}

/** What the in-process benches build the pipeline and its server with: serve's defaults. */
export const pipelineOptions = {
  timeoutMs: 30_000,
  trustedProxies: [],
  livezPath: '/livez',
  readyzPath: '/readyz',
  maxBodyBytes: 1024 * 1024,
}
export const httpServerOptions = {
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 5000,
  maxHeaderBytes: 16 * 1024,
}
