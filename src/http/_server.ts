/**
 * The node:http server a worker runs. It never listens itself: the primary owns the socket and
 * hands connections over, which the worker feeds in with `server.emit('connection', socket)`.
 */
import { createServer, type Server, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { ShipshapeError } from '../errors/index.js'
import type { Pipeline } from '../types.js'

export interface HttpServerOptions {
  /** Time allowed to receive the request headers; a slowloris client is cut off after it (408). */
  headersTimeoutMs: number
  /** Time allowed to receive the whole request, body included (408). 0 turns it off. */
  requestTimeoutMs: number
  /** How long an idle keep-alive connection stays open. Must exceed the load balancer's idle timeout. */
  keepAliveTimeoutMs: number
  /** Largest request head (request line and headers) accepted; beyond it the answer is 431. */
  maxHeaderBytes: number
}

export function createHttpServer(pipeline: Pipeline, options: HttpServerOptions): Server {
  if (options.requestTimeoutMs > 0 && options.headersTimeoutMs > options.requestTimeoutMs) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `the headers timeout (${options.headersTimeoutMs} ms) must not exceed the request timeout (${options.requestTimeoutMs} ms)`,
    )
  }
  const server = createServer(
    {
      maxHeaderSize: options.maxHeaderBytes,
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      // Checked often enough that a slow client is cut off near its deadline, not up to 30 s later.
      connectionsCheckingInterval: Math.max(250, Math.min(5000, Math.floor(options.headersTimeoutMs / 4))),
    },
    pipeline.listener,
  )
  server.on('clientError', answerClientError)
  // node:http starts tracking connections, and enforcing the header and request timeouts on
  // them, only when the server emits 'listening'. A worker's server never listens (connections
  // arrive from the primary), so without this, slow clients would never be cut off and
  // closeIdleConnections() would close nothing.
  server.emit('listening')
  return server
}

/**
 * A request node:http could not parse never reaches the pipeline or the app: it gets a plain
 * answer (431 for oversized headers, 408 for a timeout, 400 otherwise) and the connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const body = `${STATUS_CODES[status]}\n`
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  )
}
