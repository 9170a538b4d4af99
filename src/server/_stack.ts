/**
 * The middleware every worker runs in front of the app, composed once at start-up. Order:
 * security (headers, hosts, HTTPS) → static files → media. Each capability adds its factory here.
 */
import { existsSync } from 'node:fs'
import { consoleArea } from '../console/index.js'
import { isMonitoring, monitorEndpoint } from '../monitor/endpoint.js'
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
  if (options.observe.ingest) {
    const { redisUrl, prefix } = options.cache
    middleware.push(
      sentryIngest({ ...options.observe.ingest, ...(redisUrl ? { redis: { url: redisUrl, prefix } } : {}) }),
    )
  }
  // Agents' reports, heartbeat pings, the monitor API and status page, when anything is monitored (docs/monitor.md).
  if (isMonitoring(options.monitor))
    middleware.push(monitorEndpoint(options.monitor, logger ?? createLogger()))
  // A protected area set in the settings (docs/auth.md): loaded only when one is set (argon2, otplib).
  if (options.auth.protect !== '') middleware.push(await protectedArea(options, logger))
  // The ops console under console.prefix, behind sign-in with MFA (docs/console.md); its pages load on first use.
  if (options.console.enabled) middleware.push(consoleArea(options, logger ?? createLogger()))
  // Static files are served when collectstatic's output exists; an app without any pays nothing.
  // A framework's browser files too (Next's .next/static, SvelteKit's and React Router's build/client).
  const mounts = [
    ...(existsSync(options.staticRoot) ? [{ root: options.staticRoot, prefix: options.staticUrl }] : []),
    ...buildOutputs(options.app),
  ]
  // --static-memory is the whole server's: each worker's mounts share the worker's part of it.
  const memoryBytes = Math.floor(options.staticMemoryBytes / options.workers / Math.max(1, mounts.length))
  for (const mount of mounts) {
    middleware.push(
      staticFiles({
        ...mount,
        maxAge: Math.round(options.staticMaxAgeMs / 1000),
        allowOrigin: options.staticAllowOrigin,
        memoryBytes,
      }),
    )
  }
  // Media needs no setup: local storages live under --media-root, created on the first upload.
  // They become the worker's, so the app's storage() calls during a request use them too.
  middleware.push(mediaFiles({ storages: storagesOver(options.media) }))
  return middleware
}

async function protectedArea(options: ServeOptions, logger: Logger | undefined): Promise<Middleware> {
  const { protect, servedAreaOptions } = await import('../auth/index.js')
  const { auth } = options
  return protect(auth.protect, {
    ...servedAreaOptions(auth, options.cache, logger),
    mfa: auth.mfa,
    allowIps: auth.allowIps,
    mfaGraceMs: auth.mfaGraceMs,
  })
}
