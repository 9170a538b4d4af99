/**
 * What shipshape finds in an app module besides its request handler: the server its WebSocket
 * library listens on for upgrades, and the app's own shutdown hooks. Read once, when the worker
 * loads the app (docs/server.md, "WebSockets" and "Drain and shutdown hooks"):
 *
 * - a NestJS app (`export default app`, from `NestFactory.create`) is initialised here if it
 *   was not, and served through its HTTP adapter's instance (Express or Fastify); its upgrade
 *   server is `app.getHttpServer()` (where Nest's gateways listen) and `app.close()` runs its
 *   OnModuleDestroy / OnApplicationShutdown hooks;
 * - a node:http server exported as the app (`export default createServer(app)`, never
 *   listening) gets the requests through its `request` listeners and the upgrades through its
 *   `upgrade` listeners, which is where `new WebSocketServer({ server })` and Socket.IO's
 *   `new Server(server)` put theirs;
 * - a Fastify app's upgrade server is `app.server` (where @fastify/websocket listens), and its
 *   `close()` runs its onClose hooks;
 * - any module may export `server`, a node:http server whose `upgrade` listeners take the
 *   upgrades (Hono: `injectWebSocket(server)`), and `close()`, run after the framework's.
 */
import { EventEmitter } from 'node:events'
import { type IncomingMessage, Server, type ServerResponse } from 'node:http'
import type { AppHandler, AppKind } from '../types.js'

type Any = Record<string, unknown>
type Close = () => unknown

export interface AppParts {
  /** What to adapt as the app: the module's, or what a Nest app or a server stands for. */
  app: unknown
  upgrades?: EventEmitter
  /** The framework's own shutdown, when it is not the kind's (a Nest app's). */
  close?: Close
}

/** Unwraps a Nest app or a node:http server into the app to adapt, and where its upgrades go. */
export async function appParts(app: unknown): Promise<AppParts> {
  const a = app as Any
  if (isNest(a)) {
    await (a.init as () => Promise<unknown>)()
    const adapter = (a.getHttpAdapter as () => Any)()
    return {
      app: (adapter.getInstance as () => unknown)(),
      upgrades: (a.getHttpServer as () => EventEmitter)(),
      close: () => (a.close as Close)(),
    }
  }
  if (app instanceof Server) {
    // The server's own request listeners, as listen() would call them (Socket.IO wraps them to
    // take its polling requests, after shipshape's middleware).
    const listener = (req: IncomingMessage, res: ServerResponse) => void app.emit('request', req, res)
    return { app: listener, upgrades: app }
  }
  return { app }
}

/** The adapted handler with the upgrade server and shutdown hooks the module and its app offer. */
export function withHooks(handler: AppHandler, parts: AppParts, kind: AppKind, module: Any): AppHandler {
  const a = parts.app as Any
  const closers: Close[] = []
  if (parts.close) closers.push(parts.close)
  else if (kind === 'fastify' && typeof a.close === 'function') closers.push(() => (a.close as Close).call(a))
  if (typeof module.close === 'function') closers.push(module.close as Close)
  let upgrades = parts.upgrades
  if (module.server instanceof EventEmitter) upgrades = module.server
  else if (kind === 'fastify' && a.server instanceof EventEmitter) upgrades = a.server
  const close =
    closers.length === 0
      ? undefined
      : async () => {
          // Each hook runs, whatever the one before did; the first failure is reported.
          const failures: unknown[] = []
          for (const hook of closers) {
            try {
              await hook()
            } catch (error) {
              failures.push(error)
            }
          }
          if (failures.length > 0) throw failures[0]
        }
  return Object.assign(handler, { upgrades, close })
}

/** NestApplication's shape: an HTTP adapter and server, init() and close(). */
function isNest(a: Any): boolean {
  return (
    typeof a === 'object' &&
    a !== null &&
    typeof a.getHttpAdapter === 'function' &&
    typeof a.getHttpServer === 'function' &&
    typeof a.init === 'function' &&
    typeof a.close === 'function'
  )
}
