/**
 * Upgrade requests (WebSockets). node:http hands them over outside the request path, as a raw
 * socket: nothing in front of the app would see them. Here each one goes through the same
 * middleware as a request first (the Host allow-list, the HTTPS redirect, the security headers
 * on any refusal), then an Origin check, and only then to the app's upgrade server, the
 * node:http server its WebSocket library listens on (`ws`, Socket.IO, @fastify/websocket,
 * @hono/node-ws all take one), as its own `upgrade` event.
 *
 * Once the app owns the socket it speaks its own protocol; shipshape only watches it: one
 * access line when it closes (duration, bytes each way), the WebSocket metrics, and on a drain
 * a close frame 1001 ("going away"), so clients reconnect to the new workers at once instead of
 * holding the old worker until the graceful timeout.
 */
import type { EventEmitter } from 'node:events'
import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from '../observe/index.js'
import type { AppHandler, RequestContext } from '../types.js'
import { answerPlain, requestIdOf } from './_answer.js'
import { Context, contextStorage, type Shared } from './_context.js'
import { webSocketClosed, webSocketOpened } from './_metrics.js'

/**
 * A WebSocket close frame, code 1001 "going away", as a server sends it (unmasked). Written
 * between two of the library's frames: every WebSocket library on Node (`ws`, under Socket.IO,
 * @fastify/websocket and @hono/node-ws too) writes a whole frame in one turn of the event loop,
 * and this is written from a timer, so it never lands inside one.
 */
const reason = Buffer.from('server restarting')
const goingAway = Buffer.concat([Buffer.from([0x88, 2 + reason.length, 0x03, 0xe9]), reason])
/**
 * How long a client has to answer the close frame before its socket is destroyed. A client
 * answers within a round trip; one that does not is gone, and would otherwise hold the drain.
 */
const closeWaitMs = 2000

export interface UpgradeOptions {
  shared: Shared
  logger: Logger
  accessLog: boolean
  /** The middleware chain, ending in `handOver` instead of the app. */
  compose(last: AppHandler): AppHandler
  draining(): boolean
}

interface Upgraded {
  ctx: Context
  socket: Duplex
  /** The app wrote `HTTP/1.1 101`: the socket speaks WebSocket (or the protocol asked for). */
  switched: boolean
  status: number
}

export interface Upgrades {
  /** The node:http server's `upgrade` listener. */
  listener(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Close frames 1001 to every open WebSocket; the rest of the upgraded sockets are closed. */
  drain(): void
}

export function upgradeHandler(target: EventEmitter, options: UpgradeOptions): Upgrades {
  const { shared, logger, accessLog } = options
  const open = new Map<Context, Upgraded>()
  const pending = new WeakMap<RequestContext, { socket: Duplex; head: Buffer }>()

  const handOver: AppHandler = async (ctx) => {
    const handed = pending.get(ctx)
    if (handed === undefined) return
    if (!originAllowed(ctx)) {
      logger.warn(
        { requestId: ctx.id, path: ctx.path, origin: ctx.req.headers.origin, host: ctx.req.headers.host },
        'WebSocket refused: opened from a page on another site',
      )
      answer(
        ctx,
        403,
        'Forbidden: a WebSocket may only be opened from a page of this site (SHIPSHAPE_E_WEBSOCKET_ORIGIN)\n',
      )
      return
    }
    if (target.listenerCount('upgrade') === 0) {
      answer(ctx, 404, 'Not Found: nothing here accepts a WebSocket\n')
      return
    }
    const { socket, head } = handed
    ctx.res.detachSocket(socket as Socket)
    watch(ctx as Context, socket)
    target.emit('upgrade', ctx.req, socket, head)
  }
  const chain = options.compose(handOver)

  function answer(ctx: RequestContext, status: number, text: string): void {
    answerPlain(ctx.res, status, text, {
      worker: shared.worker,
      https: ctx.protocol === 'https',
      close: true,
    })
  }

  function watch(ctx: Context, socket: Duplex): void {
    const entry: Upgraded = { ctx, socket, switched: false, status: 0 }
    open.set(ctx, entry)
    const net = socket as Socket
    const readAtStart = net.bytesRead
    const writtenAtStart = net.bytesWritten
    // The app's first write is its answer to the handshake: 101, or a refusal.
    const write = socket.write
    socket.write = function firstWrite(this: Duplex, chunk: unknown, ...rest: unknown[]) {
      socket.write = write
      const head =
        typeof chunk === 'string'
          ? chunk.slice(0, 12)
          : Buffer.isBuffer(chunk)
            ? chunk.toString('latin1', 0, 12)
            : ''
      entry.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
      entry.switched = entry.status === 101
      if (entry.switched) {
        webSocketOpened()
        // A handshake that completed after the drain began: told at once, after its 101.
        if (options.draining()) setImmediate(() => goAway(entry))
      }
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
    } as typeof socket.write
    socket.once('close', () => {
      open.delete(ctx)
      const ms = performance.now() - ctx.startedAt
      const bytesIn = net.bytesRead - readAtStart
      const bytesOut = net.bytesWritten - writtenAtStart
      if (entry.switched) webSocketClosed(bytesIn, bytesOut)
      if (accessLog) {
        logger.info(
          {
            requestId: ctx.id,
            method: ctx.method,
            path: ctx.path,
            status: entry.status,
            ms: Math.round(ms * 100) / 100,
            bytesIn,
            bytesOut,
          },
          entry.switched ? 'websocket closed' : 'upgrade refused by the app',
        )
      }
    })
  }

  return {
    listener(req, socket, head) {
      // node:http removes its own error listener before handing the socket over: a reset
      // would otherwise be an uncaught error that takes the worker down.
      socket.on('error', () => socket.destroy())
      const url = req.url ?? '/'
      const query = url.indexOf('?')
      const path = query === -1 ? url : url.slice(0, query)
      const res = new ServerResponse(req)
      res.assignSocket(socket as Socket)
      // An answer of shipshape's own (a refusal, a redirect) is the last thing on this socket.
      res.once('finish', () => socket.end())
      const ctx = new Context(shared, requestIdOf(req), req, res, path)
      res.setHeader('X-Request-Id', ctx.id)
      if (options.draining()) {
        answer(
          ctx,
          503,
          `Service Unavailable: the worker is draining; connect again (request id ${ctx.id})\n`,
        )
        return
      }
      pending.set(ctx, { socket, head })
      contextStorage.run(ctx, () =>
        chain(ctx).catch((error: unknown) => {
          shared.logError(ctx, error)
          if (!res.headersSent && !socket.destroyed && open.get(ctx) === undefined)
            answer(ctx, 500, `Internal Server Error (request id ${ctx.id})\n`)
          else socket.destroy()
        }),
      )
    },
    drain() {
      for (const entry of open.values()) goAway(entry)
    },
  }

  /**
   * A WebSocket gets its close frame 1001; a socket upgraded to another protocol is closed. A
   * handshake still under way (the app answers it asynchronously) is told once it switches (see
   * firstWrite), or destroyed if it has not switched within the wait.
   */
  function goAway(entry: Upgraded): void {
    const { ctx, socket } = entry
    if (!entry.switched) {
      setTimeout(() => {
        if (!entry.switched) socket.destroy()
      }, closeWaitMs).unref()
      return
    }
    if (ctx.req.headers.upgrade?.toLowerCase() === 'websocket') {
      socket.write(goingAway)
      // Nothing may follow a close frame (RFC 6455, 5.5.1), but the library, which did not send
      // this one, answers the client's echo with a close frame of its own: browsers take that
      // frame as a broken connection (Chromium reports 1006 instead of 1001). Its writes are
      // dropped from here on; its end() after the echo still closes the socket cleanly.
      socket.write = function afterClose(this: Duplex, ...args: unknown[]) {
        const callback = args.findLast((arg) => typeof arg === 'function') as (() => void) | undefined
        if (callback) process.nextTick(callback)
        return true
      } as typeof socket.write
    } else socket.end()
    setTimeout(() => socket.destroy(), closeWaitMs).unref()
  }
}

/**
 * Cross-site WebSocket hijacking: a page on another site can open a WebSocket to this one, and
 * the browser sends this site's cookies with it; unlike fetch(), nothing stops the page reading
 * the answers. Browsers always send Origin on a WebSocket handshake, so a handshake is accepted
 * when it has no Origin (not a browser: it holds no user's cookies), when its Origin is the very
 * host asked for, or an allowed host named in --allowed-hosts (`*` lets any Host in, not any
 * Origin). `Origin: null` (a sandboxed page, a file) is refused.
 */
function originAllowed(ctx: RequestContext): boolean {
  const origin = ctx.req.headers.origin
  if (origin === undefined) return true
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  if (url.host === (ctx.req.headers.host ?? '').toLowerCase()) return true
  // The security middleware's host rules (WorkerState.hosts), read by shape: http/ sits below security/.
  const hosts = (ctx.worker as { hosts?: { allows(name: string): boolean } }).hosts
  // parseHost never yields an empty name: a list that allows one is `*`.
  return hosts !== undefined && !hosts.allows('') && hosts.allows(url.hostname)
}
