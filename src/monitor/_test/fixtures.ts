/** What the monitor's process tests share: a target to take down at will, a proxy to cut, config files, agents. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { cli, type Running, startServe } from '../../_test/cli.js'
import type { LogLine } from '../../_test/pipeline.js'
import { createTestDatabase, type TestDatabase } from '../../_test/postgres.js'

export const token = 'test-token-0123456789abcdef'

/** The app the monitor's serve tests run: a page, and /fail that answers 500. */
export const app = new URL('./app.ts', import.meta.url).pathname

/**
 * A suite's own Postgres database, and a list of what its tests start (servers, receivers),
 * stopped newest first after each test (`after: 'each'`) or after the suite.
 */
export function postgresSuite(name: string, after: 'each' | 'all' = 'all') {
  const running: (Running | { close(): Promise<void> })[] = []
  let db: TestDatabase | undefined
  const stopAll = async () => {
    for (const item of running.splice(0).reverse()) await ('close' in item ? item.close() : item.stop())
  }
  beforeAll(async () => {
    db = await createTestDatabase(name)
  })
  if (after === 'each') afterEach(stopAll)
  afterAll(async () => {
    await stopAll()
    await db?.drop()
  })
  return { running, url: () => (db as TestDatabase).url }
}

/** `shipshape serve` of the test app with one worker, resolved once its monitor runs; pushed to `running` first. */
export async function serveMonitored(
  config: string,
  env: Record<string, string>,
  running: { push(server: Running): unknown },
  cwd?: string,
): Promise<Running> {
  const server = await startServe([app, '--workers', '1', '--config', config], env, undefined, { cwd })
  running.push(server)
  await server.waitForLog((line) => line.msg === 'monitor started', 'monitor started', 30_000)
  return server
}

/** An HTTP target that answers 200 `hello` while `up`, else 503; `delayMs` later when set. */
export async function target(): Promise<{
  url: string
  up: boolean
  delayMs: number
  close(): Promise<void>
}> {
  const state = { up: true, delayMs: 0 }
  const server: Server = createServer((_req, res) => {
    setTimeout(() => {
      res.writeHead(state.up ? 200 : 503, { 'content-type': 'text/plain', connection: 'close' })
      res.end(state.up ? 'hello' : 'down')
    }, state.delayMs)
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as AddressInfo
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/health`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  })
}

/** A TCP proxy to `port` that can be cut (every connection dropped, none accepted) and restored. */
export async function proxy(
  port: number,
): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  let server = createTcpServer()
  const own = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  }
  const open = async (at: number) => {
    server = createTcpServer((client) => {
      const upstream = connect(port, '127.0.0.1')
      own(client)
      own(upstream)
      client.pipe(upstream).pipe(client)
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
    })
    await new Promise<void>((ready) => server.listen(at, '127.0.0.1', ready))
    return (server.address() as AddressInfo).port
  }
  const at = await open(0)
  const cut = async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((done) => server.close(() => done()))
  }
  return { url: `http://127.0.0.1:${at}`, cut, restore: async () => void (await open(at)), close: cut }
}

/** A self-signed certificate for localhost, valid for `days`, made with openssl: its key and cert files. */
export function selfSignedCert(days: number): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-monitor-tls-'))
  const files = { key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') }
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', String(days), '-subj', '/CN=localhost'],
      ...['-keyout', files.key, '-out', files.cert],
    ],
    { stdio: 'ignore' },
  )
  return files
}

export function writeConfig(dir: string, name: string, config: unknown): string {
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify(config))
  return file
}

export interface AgentProcess {
  child: ChildProcess
  logs: LogLine[]
  stop(): Promise<void>
}

/** `shipshape monitor <app>` as a child process, with its own config file. */
export function startAgentProcess(
  app: string,
  config: string,
  vantage: string,
  agentToken = token,
): AgentProcess {
  const child = spawn(
    process.execPath,
    [cli, 'monitor', app, '--config', config, '--vantage', vantage, '--token', agentToken],
    {
      env: { ...process.env, LOG_LEVEL: 'debug', SHIPSHAPE_DB_EMBEDDED: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const logs: LogLine[] = []
  let pending = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line))
  })
  child.stderr?.resume()
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    child,
    logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
