/** A worker's pipeline and http(s) server on port 0 in the test process, with the security middleware in front. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { createHttpServer, createPipeline, type HttpServerOptions, loadApp } from '../../http/index.js'
import type { Middleware } from '../../types.js'
import { type SecurityOptions, securityMiddleware } from '../index.js'

export type LogLine = Record<string, unknown> & { msg: string; level: number }

const app = fileURLToPath(new URL('./app.ts', import.meta.url))
const open: { close(): Promise<void> }[] = []

/** Starts the fixture app behind the security middleware (or the given middleware). */
export async function start(
  options: Partial<SecurityOptions> = {},
  extra: { trustedProxies?: string[]; tls?: HttpServerOptions['tls']; middleware?: Middleware[] } = {},
) {
  const logs: LogLine[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const pipeline = createPipeline(
    await loadApp(app, 'auto'),
    {
      timeoutMs: 5000,
      trustedProxies: extra.trustedProxies ?? [],
      livezPath: '/livez',
      readyzPath: '/readyz',
      maxBodyBytes: 1024 * 1024,
      accessLog: false,
    },
    logger,
    extra.middleware ?? [securityMiddleware(options, logger)],
  )
  const server = createHttpServer(pipeline, {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5000,
    maxHeaderBytes: 16 * 1024,
    ...(extra.tls ? { tls: extra.tls } : {}),
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as AddressInfo
  const handle = {
    port,
    logs,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
  open.push(handle)
  return handle
}

export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((server) => server.close()))
}

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** One request with full control of its headers (Host included), over http or https. */
export function send(
  port: number,
  options: {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
    tls?: boolean
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const make = options.tls ? httpsRequest : httpRequest
    const req = make(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: { host: 'localhost', ...options.headers },
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

export { raw } from '../../http/_test/harness.js'

/** The header lines of a raw response, as [lower-cased name, value]. */
export function rawHeaders(response: string): [string, string][] {
  const head = response.split('\r\n\r\n')[0] ?? ''
  return head
    .split('\r\n')
    .slice(1)
    .map((line) => {
      const colon = line.indexOf(':')
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as [string, string]
    })
}
