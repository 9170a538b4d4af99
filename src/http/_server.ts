/**
 * The node:http server a worker runs. It never listens itself: the primary owns the socket and
 * hands connections over, which the worker feeds in with `server.emit('connection', socket)`.
 * With TLS options it is an https server: the handed-over raw TCP socket is wrapped in TLS here.
 */
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Duplex } from 'node:stream'
import { ShipshapeError } from '../errors/index.js'
import type { Pipeline, WorkerState } from '../types.js'
import { plainAnswerBytes } from './_answer.js'

export interface HttpServerOptions {
  /** Time allowed to receive the request headers; a slowloris client is cut off after it (408). */
  headersTimeoutMs: number
  /** Time allowed to receive the whole request, body included (408). 0 turns it off. */
  requestTimeoutMs: number
  /** How long an idle keep-alive connection stays open. Must exceed the load balancer's idle timeout. */
  keepAliveTimeoutMs: number
  /** Largest request head (request line and headers) accepted; beyond it the answer is 431. */
  maxHeaderBytes: number
  /**
   * Serve HTTPS directly from these PEM files. They are read here, once per worker: a reload
   * starts new workers, which read the files again, so a renewed certificate needs no restart.
   * Default: none (plain HTTP, TLS terminated by a proxy).
   */
  tls?: { certFile: string; keyFile: string }
}

export function createHttpServer(pipeline: Pipeline, options: HttpServerOptions): Server {
  if (options.requestTimeoutMs > 0 && options.headersTimeoutMs > options.requestTimeoutMs) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `the headers timeout (${options.headersTimeoutMs} ms) must not exceed the request timeout (${options.requestTimeoutMs} ms)`,
    )
  }
  const httpOptions = {
    maxHeaderSize: options.maxHeaderBytes,
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // How often node:http looks for connections past these timeouts: a slow client is cut off
    // up to this late (Node's default is 30 s). Each check walks, in C++, the list of connections
    // with a request under way; twice a second is noise beside serving them (bench/slowloris).
    connectionsCheckingInterval: Math.max(50, Math.min(500, Math.floor(options.headersTimeoutMs / 4))),
  }
  const server: Server =
    options.tls === undefined
      ? createServer(httpOptions, pipeline.listener)
      : createTlsServer(
          {
            ...httpOptions,
            minVersion: 'TLSv1.2',
            // A client stalling the handshake is a slowloris too: same deadline as the headers.
            handshakeTimeout: options.headersTimeoutMs,
          },
          options.tls,
          pipeline.listener,
        )
  const { worker } = pipeline
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(error, socket, worker),
  )
  // Only an app with an upgrade server takes upgrades: without a listener, node:http treats an
  // upgrade request as a plain request, which the app answers as it would any other.
  if (pipeline.upgrade) server.on('upgrade', pipeline.upgrade)
  // A CONNECT (a request to open a tunnel) would otherwise have its socket dropped without a word.
  server.on('connect', (_req: unknown, socket: Duplex) => refuseOnSocket(socket, 400, worker))
  // node:http starts tracking connections, and enforcing the header and request timeouts on
  // them, only when the server emits 'listening'. A worker's server never listens (connections
  // arrive from the primary), so without this, slow clients would never be cut off and
  // closeIdleConnections() would close nothing.
  server.emit('listening')
  return server
}

/**
 * Reads the certificate and key; making the server parses both and checks that the key belongs
 * to the certificate, so a wrong file stops the worker before it serves.
 */
function createTlsServer(
  options: HttpsServerOptions,
  files: { certFile: string; keyFile: string },
  listener: Pipeline['listener'],
): Server {
  let cert: Buffer
  let key: Buffer
  try {
    cert = readFileSync(files.certFile)
    key = readFileSync(files.keyFile)
  } catch (error) {
    throw new ShipshapeError('SHIPSHAPE_E_TLS', (error as Error).message, { cause: error })
  }
  try {
    return https().createServer({ ...options, cert, key }, listener)
  } catch (error) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_TLS',
      `${files.certFile} and ${files.keyFile}: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

/**
 * A request node:http could not parse never reaches the pipeline or the app: it gets a plain
 * answer (431 for oversized headers, 408 for a timeout, 400 otherwise) and the connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, worker: WorkerState): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  refuseOnSocket(
    socket,
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400,
    worker,
  )
}

/** The same headers as every other answer of shipshape's own (see plainAnswer), written raw. */
function refuseOnSocket(socket: Duplex, status: number, worker: WorkerState): void {
  socket.end(plainAnswerBytes(status, worker, (socket as { encrypted?: boolean }).encrypted === true))
}

// node:https (and with it node:tls) is loaded only when the worker terminates TLS itself: most
// run behind a proxy that does, and OpenSSL's TLS state costs each worker about 3 MB.
const https = () => process.getBuiltinModule('node:https')
