/** A pipeline and http server on port 0 in the test process, with its log lines captured. */
import { type AddressInfo, connect } from 'node:net'
import pino from 'pino'
import type { Middleware } from '../../types.js'
import { loadApp } from '../_adapters.js'
import { createPipeline, type PipelineOptions } from '../_pipeline.js'
import { createHttpServer, type HttpServerOptions } from '../_server.js'

export type LogLine = Record<string, unknown> & { msg: string; level: number }

export const pipelineDefaults: PipelineOptions = {
  timeoutMs: 1000,
  trustedProxies: [],
  livezPath: '/livez',
  readyzPath: '/readyz',
  maxBodyBytes: 1024 * 1024,
  accessLog: true,
}

export const serverDefaults: HttpServerOptions = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5000,
  maxHeaderBytes: 16 * 1024,
}

export async function serve(
  entry: string,
  options: Partial<PipelineOptions> = {},
  middleware: Middleware[] = [],
  server: Partial<HttpServerOptions> = {},
) {
  const logs: LogLine[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const app = await loadApp(entry, 'auto')
  const pipeline = createPipeline(app, { ...pipelineDefaults, ...options }, logger, middleware)
  const http = createHttpServer(pipeline, { ...serverDefaults, ...server })
  await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready))
  const { port } = http.address() as AddressInfo
  return {
    pipeline,
    http,
    logs,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        http.closeAllConnections()
        http.close(() => done())
      }),
  }
}

/** Polls `condition` until it holds; the machine is loaded, so the deadline is generous. */
export async function eventually<T>(
  condition: () => T | undefined | false,
  what: string,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = condition()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((wait) => setTimeout(wait, 20))
  }
}

/**
 * Sends raw bytes (for requests an HTTP client refuses to send; several parts `pauseMs` apart;
 * a string is written one byte per character) and returns everything the server wrote before
 * closing the connection, or before `waitMs` if it keeps it open.
 */
export function raw(
  port: number,
  bytes: Buffer | string | string[],
  pauseMs = 0,
  waitMs = 5000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
    })
    const timer = setTimeout(() => socket.destroy(), waitMs)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(received)
    })
    socket.on('error', (error) => (received ? resolve(received) : reject(error)))
    socket.on('connect', async () => {
      for (const part of Array.isArray(bytes) ? bytes : [bytes]) {
        if (socket.destroyed) return
        socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part)
        if (pauseMs) await new Promise((wait) => setTimeout(wait, pauseMs))
      }
    })
  })
}
