/**
 * The middleware every worker runs in front of the app, composed once at start-up. Order:
 * security (headers, hosts, HTTPS) → static files → media. Each capability adds its factory here.
 */
import { existsSync } from 'node:fs'
import { monitorEndpoint } from '../monitor/index.js'
import { createLogger, type Logger, sentryIngest } from '../observe/index.js'
import { securityMiddleware } from '../security/index.js'
import { buildOutputs, staticFiles } from '../static/index.js'
import { mediaFiles, storagesOver } from '../storage/index.js'
import type { Middleware } from '../types.js'
// Types only: _composed.js loads every group's zod declarations (~19 MB resident): the primary's alone.
import type { ServeOptions } from './_composed.js'

/** `logger` receives CSP violation reports and proxy warnings; default: a logger of its own, made on first use. */
export async function defaultMiddleware(options: ServeOptions, logger?: Logger): Promise<Middleware[]> {
  // Security first, so static files and every refusal carry the headers too.
  const middleware: Middleware[] = [securityMiddleware(options, logger)]
  // Sentry SDKs reporting to the app itself, when a DSN key is set (docs/observe.md).
  if (options.observe.ingest) middleware.push(sentryIngest(options.observe.ingest))
  // Agents' reports, heartbeat pings, the monitor API and status page, when anything is monitored (docs/monitor.md).
  const { monitor } = options
  if (monitor.checks.length > 0 || monitor.heartbeats.length > 0)
    middleware.push(monitorEndpoint(monitor, logger ?? createLogger()))
  // Static files are served when collectstatic's output exists; an app without any pays nothing.
  if (existsSync(options.staticRoot)) {
    middleware.push(
      staticFiles({
        root: options.staticRoot,
        prefix: options.staticUrl,
        maxAge: Math.round(options.staticMaxAgeMs / 1000),
        allowOrigin: options.staticAllowOrigin,
      }),
    )
  }
  // A framework's browser files (Next's .next/static, SvelteKit's and React Router's build/client).
  for (const output of buildOutputs(options.app)) {
    middleware.push(
      staticFiles({
        ...output,
        maxAge: Math.round(options.staticMaxAgeMs / 1000),
        allowOrigin: options.staticAllowOrigin,
      }),
    )
  }
  // Media needs no setup: local storages live under --media-root, created on the first upload.
  // They become the worker's, so the app's storage() calls during a request use them too.
  middleware.push(mediaFiles({ storages: storagesOver(options.media) }))
  return middleware
}
