/** A worker's pipeline and http(s) server on port 0 in the test process, with the security middleware in front. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { fileURLToPath } from 'node:url'
import { serve } from '../../_test/pipeline.js'
import type { HttpServerOptions } from '../../http/index.js'
import type { Middleware } from '../../types.js'
import { type SecurityOptions, securityMiddleware } from '../index.js'

const app = fileURLToPath(new URL('./app.ts', import.meta.url))
const open: { close(): Promise<void> }[] = []

/** Starts the fixture app behind the security middleware (or the given middleware). */
export async function start(
  options: Partial<SecurityOptions> = {},
  extra: { trustedProxies?: string[]; tls?: HttpServerOptions['tls']; middleware?: Middleware[] } = {},
) {
  const { port, logs, http, close } = await serve(
    app,
    { timeoutMs: 5000, trustedProxies: extra.trustedProxies ?? [], accessLog: false },
    (logger) => extra.middleware ?? [securityMiddleware(options, logger)],
    extra.tls ? { tls: extra.tls } : {},
  )
  const handle = { port, logs, server: http, close }
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

export { raw } from '../../_test/socket.js'

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
