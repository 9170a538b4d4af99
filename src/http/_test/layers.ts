/**
 * The three ways the conformance suite runs each fixture app, as users run it: through a bare
 * pipeline, through the middleware every worker runs in front of the app, and through
 * `shipshape serve` itself (the built CLI, one worker). The in-process layers use the built
 * modules too (dist/), so the app's `import { getContext } from 'shipshape'` finds the same
 * request context in all three.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { createHttpServer, createPipeline, httpMetrics, loadApp } from 'shipshape/http'
import { securityDefaults } from 'shipshape/security'
import ts from 'typescript'
// The stack every worker runs; a private module of the build, which only tests reach into.
import { defaultMiddleware } from '../../../dist/server/_stack.js'
import { ready, startServe } from '../../_test/cli.js'
import type { LogLine } from '../../_test/pipeline.js'
import type { Middleware } from '../../types.js'

export interface Target {
  url: string
  port: number
  logs: LogLine[]
  /** Process warnings (MaxListenersExceededWarning and the like) seen since the server started. */
  warnings(): string[]
  /** The timeouts counted by the worker's metrics; undefined where they are not readable here. */
  timeouts?: () => Promise<number>
  close(): Promise<void>
}

export interface Layer {
  name: string
  /** True when the security headers and the rest of the default stack are in front of the app. */
  defaultStack: boolean
  start(entry: string, limits: { timeoutMs: number; maxBodyBytes: number }): Promise<Target>
}

async function timeoutsCounted(): Promise<number> {
  return httpMetrics(true).timeouts
}

async function inProcess(
  entry: string,
  limits: { timeoutMs: number; maxBodyBytes: number },
  middleware: (logger: pino.Logger) => Promise<Middleware[]>,
): Promise<Target> {
  const logs: LogLine[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const seen: string[] = []
  const onWarning = (warning: Error) => seen.push(`${warning.name}: ${warning.message}`)
  process.on('warning', onWarning)
  const pipeline = createPipeline(
    await loadApp(entry, 'auto'),
    { trustedProxies: [], livezPath: '/livez', readyzPath: '/readyz', accessLog: true, ...limits },
    logger,
    (await middleware(logger)) as never,
  )
  const http = createHttpServer(pipeline, {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5000,
    maxHeaderBytes: 16 * 1024,
  })
  await new Promise<void>((listening) => http.listen(0, '127.0.0.1', listening))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    warnings: () => seen,
    timeouts: timeoutsCounted,
    close: () =>
      new Promise<void>((done) => {
        process.off('warning', onWarning)
        http.closeAllConnections()
        http.close(() => done())
      }),
  }
}

export const bare: Layer = {
  name: 'a bare pipeline',
  defaultStack: false,
  start: (entry, limits) => inProcess(entry, limits, async () => []),
}

export const defaultStack: Layer = {
  name: 'the default middleware',
  defaultStack: true,
  start: (entry, limits) =>
    inProcess(entry, limits, (logger) => {
      const media = mkdtempSync(join(tmpdir(), 'shipshape-conformance-media-'))
      const options = {
        ...securityDefaults,
        staticRoot: join(media, 'no-static-files'),
        staticUrl: '/static/',
        staticMaxAgeMs: 60_000,
        staticAllowOrigin: undefined,
        staticMemoryBytes: 32 * 1024 * 1024,
        workers: 1,
        media: { root: media },
        observe: { ingest: undefined },
        auth: { protect: '' },
        monitor: { checks: [], heartbeats: [] },
        console: { enabled: false },
      }
      return defaultMiddleware(options as unknown as Parameters<typeof defaultMiddleware>[0], logger)
    }),
}

const repo = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * `serve` runs the fixture as production runs an app: compiled to JavaScript (and Node 20 has
 * no type stripping). Written under node_modules/.cache so `express`, `koa`… resolve as from the
 * fixture; `shipshape` is pointed at the build, which the worker runs too.
 */
function compiled(entry: string): string {
  const out = join(repo, 'node_modules', '.cache', 'shipshape-conformance')
  mkdirSync(out, { recursive: true })
  const shipshape = new URL('dist/index.js', `file://${repo}`).href
  for (const file of [entry, join(dirname(entry), '_shared.ts')]) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    })
    const js = outputText.replaceAll("from 'shipshape'", `from '${shipshape}'`)
    writeFileSync(join(out, basename(file).replace(/\.ts$/, '.js')), js)
  }
  return join(out, basename(entry).replace(/\.ts$/, '.js'))
}

export const serveLayer: Layer = {
  name: 'shipshape serve',
  defaultStack: true,
  async start(entry, { timeoutMs, maxBodyBytes }) {
    const running = await startServe([
      compiled(entry),
      '--workers',
      '1',
      '--timeout',
      `${timeoutMs}ms`,
      '--max-body-size',
      String(maxBodyBytes),
      '--media-root',
      mkdtempSync(join(tmpdir(), 'shipshape-conformance-media-')),
    ])
    await ready(running, 1)
    return {
      url: running.url,
      port: Number(new URL(running.url).port),
      logs: running.logs,
      warnings: () =>
        running
          .stderr()
          .split('\n')
          .filter((line) => line.includes('Warning')),
      close: () => running.stop(),
    }
  },
}
