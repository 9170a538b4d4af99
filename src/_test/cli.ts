/** Runs the real `shipshape serve` (the built CLI) as a child process and reads its JSON log. */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { type Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LogLine } from './pipeline.js'

export const cli = new URL('../../dist/cli/bin.js', import.meta.url).pathname

export interface Running {
  child: ChildProcess
  logs: LogLine[]
  stderr: () => string
  url: string
  pidfile: string
  exited: Promise<number | null>
  waitForLog(match: (line: LogLine) => boolean, what: string, ms?: number): Promise<LogLine>
  stop(): Promise<void>
}

/** How `shipshape serve` is started: the built CLI, unless a test starts it another way (through npm). */
const directly = [process.execPath, cli, 'serve']

/**
 * Starts `shipshape serve` on a free port; resolves once it listens (not once workers are ready).
 * `detached`: in a process group of its own, which a test can signal as a terminal or systemd does
 * (`process.kill(-child.pid, signal)`); stop() then kills the whole group. `cwd`: where it runs;
 * default: the test's own.
 */
export async function startServe(
  args: string[],
  env: Record<string, string> = {},
  [command, ...commandArgs] = directly,
  { detached = false, cwd }: { detached?: boolean; cwd?: string } = {},
): Promise<Running> {
  const pidfile = join(mkdtempSync(join(tmpdir(), 'shipshape-serve-')), 'serve.pid')
  const child = spawn(
    command as string,
    [
      ...commandArgs,
      ...args,
      ...(args.includes('--bind') ? [] : ['--bind', '127.0.0.1:0']),
      '--pidfile',
      pidfile,
    ],
    {
      // No embedded database unless a test asks for one: most tests' apps use none.
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'debug',
        SHIPSHAPE_DB_EMBEDDED: 'false',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached,
      cwd,
    },
  )
  const logs: LogLine[] = []
  let err = ''
  let pending = ''
  const listeners = new Set<() => void>()
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line))
    for (const wake of listeners) wake()
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const waitForLog = (match: (line: LogLine) => boolean, what: string, ms = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find(match)
        if (!found) return
        cleanup()
        resolve(found)
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(
          new Error(
            `no log line "${what}" within ${ms} ms; stderr:\n${err}\nlog:\n${logs.map((l) => l.msg).join('\n')}`,
          ),
        )
      }, ms)
      const cleanup = () => {
        clearTimeout(timer)
        listeners.delete(check)
      }
      listeners.add(check)
      check()
    })
  const listening = await Promise.race([
    waitForLog((line) => typeof line.url === 'string', 'listening'),
    exited.then((code) => {
      throw new Error(`shipshape serve exited (${code}) before listening:\n${err}`)
    }),
  ])
  return {
    child,
    logs,
    stderr: () => err,
    url: listening.url as string,
    pidfile,
    exited,
    waitForLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        if (detached) process.kill(-(child.pid as number), 'SIGKILL')
        else child.kill('SIGKILL')
        await exited
      }
    },
  }
}

/** Waits until `shipshape serve` has `count` ready workers. */
export async function ready(running: Running, count: number): Promise<void> {
  await running.waitForLog(
    () => running.logs.filter((line) => line.msg === 'worker ready').length >= count,
    `${count} workers ready`,
  )
}

export interface Reply {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

/** One GET on a new connection (or through `agent`), never throwing on a status. */
export function get(url: string, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agent ?? false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
      res.on('error', reject)
    })
    req.on('error', (error) =>
      reject(new Error(`${error.message}${req.reusedSocket ? ' (reused connection)' : ''}`)),
    )
    req.end()
  })
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface CliRun {
  /** The exit code; null when a signal ended it. */
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the built `shipshape` CLI to its exit, whatever the exit code, without blocking this
 * process: a test may host the very server the CLI talks to.
 */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // No embedded database unless the test asks for one (see startServe).
    const env = { SHIPSHAPE_DB_EMBEDDED: 'false', ...(options.env ?? process.env) }
    const { input, ...spawnOptions } = options
    const child = spawn(process.execPath, [cli, ...args], {
      ...spawnOptions,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    // `input` on standard input (a password piped to `shipshape admin`); otherwise at its end at once.
    child.stdin.end(input)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}
