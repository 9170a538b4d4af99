/**
 * The two databases every behaviour of shipshape/db is tested against, through one suite: the
 * real PostgreSQL on this machine (a database of the test's own, created and dropped), and the
 * embedded database process (the built one, forked as the primary forks it, on a fresh data
 * directory).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseOptions } from '../../../dist/db/index.js'
import { type DatabaseSupervisor, superviseDatabase } from '../../../dist/db/supervisor.js'
import { createLogger } from '../../../dist/observe/index.js'
import { createTestDatabase } from '../../_test/postgres.js'

export const baseOptions: DatabaseOptions = {
  url: '',
  embedded: true,
  dataDir: '',
  socketDir: '',
  poolSize: 4,
  connectTimeoutMs: 2000,
  statementTimeoutMs: 1500,
  idleInTransactionMs: 10_000,
  maxLifetimeMs: 0,
  idleTimeoutMs: 10_000,
  busyTimeoutMs: 1500,
  instances: 1,
  migrate: '',
  migrateOnServe: false,
}

export interface Target {
  readonly name: 'postgres' | 'embedded'
  options: DatabaseOptions
  /** The embedded database's supervisor (its process can be killed); undefined for Postgres. */
  supervisor?: DatabaseSupervisor
  remove(): Promise<void>
}

/** A fresh database of this test's own on the local Postgres. */
export async function postgresTarget(overrides: Partial<DatabaseOptions> = {}): Promise<Target> {
  const database = await createTestDatabase('dbcore')
  return {
    name: 'postgres',
    options: { ...baseOptions, url: database.url, ...overrides },
    remove: () => database.drop(),
  }
}

/** The embedded database process on a fresh data directory. */
export async function embeddedTarget(overrides: Partial<DatabaseOptions> = {}): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'dbcore-'))
  const options = { ...baseOptions, dataDir: join(dir, 'db'), socketDir: join(dir, 'sock'), ...overrides }
  const supervisor = await superviseDatabase(options, createLogger({ level: 'warn' }))
  return {
    name: 'embedded',
    options,
    supervisor,
    async remove() {
      await supervisor.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const targets = [
  ['postgres', postgresTarget],
  ['embedded', embeddedTarget],
] as const

/** Resolves once `check` returns true, trying every 50 ms for up to `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const end = performance.now() + ms
  while (performance.now() < end) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`not within ${ms} ms: ${what}`)
}

export interface Relay {
  /** A port of its own, nothing listening on it until open(). */
  readonly port: number
  open(): Promise<void>
  /** Stops listening and cuts every relayed connection, as a network or a server outage does. */
  cut(): void
}

/** A TCP relay to the local Postgres, on a port of its own, that a test opens and cuts. */
export async function relayToPostgres(): Promise<Relay> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
  const sockets = new Set<Socket>()
  let server: Server | undefined
  const relay = (socket: Socket) => {
    const upstream = tcpConnect(5432, '127.0.0.1')
    sockets.add(socket).add(upstream)
    socket.pipe(upstream).pipe(socket)
    for (const end of [socket, upstream]) {
      end.on('error', () => {})
      end.on('close', () => {
        socket.destroy()
        upstream.destroy()
      })
    }
  }
  return {
    port,
    open: () =>
      new Promise((resolve) => {
        server = createServer(relay).listen(port, '127.0.0.1', () => resolve())
      }),
    cut() {
      server?.close()
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    },
  }
}
