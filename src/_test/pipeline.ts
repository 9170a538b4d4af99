/**
 * A pipeline and http server on port 0 in the test process, with its log lines captured: what
 * every in-process suite serves its app and middleware with.
 */
import type { AddressInfo } from 'node:net'
import pino, { type Logger } from 'pino'
import {
  createHttpServer,
  createPipeline,
  type HttpServerOptions,
  loadApp,
  type PipelineOptions,
} from '../http/index.js'
import type { AppHandler, Middleware } from '../types.js'

/** One line of shipshape's JSON log, parsed. */
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

/** `app`: a module to load as `serve` would (any app kind), or a handler already adapted. */
export async function serve(
  app: string | AppHandler,
  options: Partial<PipelineOptions> = {},
  middleware: Middleware[] | ((logger: Logger) => Middleware[]) = [],
  server: Partial<HttpServerOptions> = {},
) {
  const logs: LogLine[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const handler = typeof app === 'string' ? await loadApp(app, 'auto') : app
  const stack = typeof middleware === 'function' ? middleware(logger) : middleware
  const pipeline = createPipeline(handler, { ...pipelineDefaults, ...options }, logger, stack)
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

/** Retries `check` until it stops throwing (an expect() that has not come true yet), for at most `ms`. */
export async function eventuallyPasses<T>(check: () => Promise<T>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((wait) => setTimeout(wait, 100))
    }
  }
}

/** Answers `app: <url>`, so a test sees that a request went past the middleware. */
const fallThrough: AppHandler = async ({ req, res }) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(`app: ${req.url}`)
}

/** The middleware in front of `app` (default: one that says it answered), without an access log. */
export async function serveMiddleware(middleware: Middleware[], app: AppHandler | string = fallThrough) {
  const { port, close } = await serve(app, { timeoutMs: 10_000, accessLog: false }, middleware)
  return { port, close }
}
