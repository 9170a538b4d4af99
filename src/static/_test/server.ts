/** A real pipeline and http server on port 0 with the given middleware, and a raw HTTP client. */
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { createHttpServer, createPipeline, loadApp } from '../../http/index.js'
import type { AppHandler, Middleware } from '../../types.js'

/** `app`: what answers behind the middleware; default: the tiny app in ./app.ts. */
export async function serve(middleware: Middleware[], app?: AppHandler) {
  app ??= await loadApp(fileURLToPath(new URL('./app.ts', import.meta.url)), 'auto')
  const pipeline = createPipeline(
    app,
    {
      timeoutMs: 10_000,
      trustedProxies: [],
      livezPath: '/livez',
      readyzPath: '/readyz',
      maxBodyBytes: 1024 * 1024,
      accessLog: false,
    },
    pino({ level: 'silent' }),
    middleware,
  )
  const http = createHttpServer(pipeline, {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5000,
    maxHeaderBytes: 16 * 1024,
  })
  await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready))
  const { port } = http.address() as AddressInfo
  return {
    port,
    close: () =>
      new Promise<void>((done) => {
        http.closeAllConnections()
        http.close(() => done())
      }),
  }
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** One request with the path sent exactly as given (no normalisation, unlike fetch). */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

export { raw } from '../../http/_test/harness.js'
