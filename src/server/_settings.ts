/**
 * The server's settings group: how `shipshape serve` runs the app (workers, timeouts, limits,
 * health checks, logs), and how the loaded settings become the options the primary and each
 * worker receive. Flags have no prefix (`--timeout`), variables keep their short names
 * (`SHIPSHAPE_TIMEOUT`).
 */
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { z } from 'zod'
import { bytes, duration, group, type Infer, parseDuration, setting } from '../config/index.js'
import { appKinds, type ServerOptions } from '../types.js'

/** `auto` detects the kind from the module's export. */
const kinds = ['auto', ...appKinds] as const
const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
const bindPattern = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/
const bindExpected = 'host:port (such as 127.0.0.1:8000, 0.0.0.0:80 or [::]:8000) or unix:PATH'
const urlPath = z
  .string()
  .refine((value) => value.startsWith('/') && !/\s/.test(value), { error: 'a path starting with /' })
// Gunicorn's convention: a bare number of seconds, so `--timeout 30` means 30 s.
const seconds = () => duration({ bareUnit: 's' })

export const serverSettings = group(
  {
    app: setting(z.string().min(1), {
      env: 'SHIPSHAPE_APP',
      flag: false,
      description:
        "The module exporting your app (a node:http listener, an Express, Connect, Koa or Fastify app, { fetch }, a NestJS app, SvelteKit's build/handler.js, React Router's build/server/index.js), or a Next.js project directory (docs/frameworks.md). Given as the argument of `shipshape serve`.",
      example: 'app.js',
    }),
    kind: setting(z.enum(kinds), {
      default: 'auto',
      description:
        'What the app module exports: auto (detected), node, express, connect, koa, fastify, fetch, next (a project directory) or react-router (a server build).',
    }),
    bind: setting(
      z.string().refine((value) => parseBind(value) !== undefined, { error: bindExpected }),
      {
        default: '127.0.0.1:8000',
        shownDefault: '127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set (HOST overrides the host)',
        envFallback: {
          names: ['PORT', 'HOST'],
          read: ({ PORT: port, HOST: host = '0.0.0.0' }) =>
            port ? `${host.includes(':') ? `[${host}]` : host}:${port}` : undefined,
        },
        description:
          'host:port to listen on, or unix:PATH for a Unix socket a proxy on the same machine connects to. Loopback by default, so nothing is exposed until you choose to; platforms that set PORT get every interface.',
      },
    ),
    workers: setting(z.int().min(1), {
      default: () => availableParallelism(),
      shownDefault: 'the number of CPUs available',
      description:
        'Worker processes. One per CPU uses the machine; each costs the memory of one copy of your app.',
    }),
    timeout: setting(seconds(), {
      default: '30s',
      description:
        'A request whose response has not started after this gets a 503 and its AbortSignal fires. A response that has started (a stream, Server-Sent Events) is bounded by --idle-timeout instead. About 5s suits most web pages; 0 turns it off.',
    }),
    idleTimeout: setting(seconds(), {
      default: '60s',
      description:
        "A started response (a stream, Server-Sent Events, a download) that sends nothing for this long is cut off and its AbortSignal fires. 60s is the idle timeout of nginx's proxy_read_timeout and AWS ALB, which would cut it anyway: send a heartbeat (an SSE comment) more often. 0 turns it off.",
    }),
    routeTimeouts: setting(
      z.array(
        z.string().refine((entry) => parseRouteTimeout(entry, routeDuration) !== undefined, {
          error: 'PATH=DURATION, such as /events/*=0 or /export=5m (* matches anything, 0 means no limit)',
        }),
      ),
      {
        default: [],
        shownDefault: 'none',
        description:
          'Comma-separated PATH=DURATION: requests whose path matches get this time to their first byte instead of --timeout (the first match wins; * matches any characters). 0 takes every limit off the route, the idle timeout included: for long polls and streams that manage their own time. The app can do the same per request with getContext().setTimeout(ms).',
        example: ['/events/*=0', '/reports/export=5m'],
      },
    ),
    watchdogTimeout: setting(seconds(), {
      default: '30s',
      description:
        'A worker whose event loop is blocked this long (a CPU-bound handler, a synchronous loop) is killed with SIGKILL and replaced; the log names the requests it held. Independent of --timeout, so it stays on when request timeouts are off. 0 turns it off.',
    }),
    gracefulTimeout: setting(seconds(), {
      default: '30s',
      description:
        'On shutdown or reload, how long in-flight requests may take to finish before their worker is killed.',
    }),
    keepAlive: setting(seconds(), {
      default: '75s',
      description:
        "How long an idle keep-alive connection stays open. Keep it above your load balancer's idle timeout (AWS ALB: 60s), or clients see occasional 502s.",
    }),
    headersTimeout: setting(seconds(), {
      default: '10s',
      description: 'Time a client has to send its request headers (408 after): cuts off slowloris clients.',
    }),
    bodyTimeout: setting(seconds(), {
      default: '5m',
      description:
        'Time a client has to send its whole request, body included (408 after). Long enough for a large upload on a slow line.',
    }),
    maxHeaderSize: setting(bytes(), {
      default: '16KiB',
      description: 'Largest request line plus headers (431 beyond it).',
    }),
    maxBodySize: setting(bytes(), {
      default: '10MB',
      description:
        'Largest request body (413 beyond it, before your app runs). Raise it for large uploads; 0 turns the limit off.',
    }),
    maxRequests: setting(z.int().min(0), {
      default: 0,
      description:
        'Replace a worker after it has answered this many requests, to contain slow memory leaks; 0 never does.',
    }),
    maxRequestsJitter: setting(z.int().min(0), {
      default: 0,
      description:
        'Adds a random 0..N to --max-requests per worker, so workers are not all replaced at the same moment.',
    }),
    maxMemory: setting(bytes(), {
      default: 0,
      description:
        "Replace a worker whose resident memory (RSS) has grown past this, as --max-requests does: for apps that leak, or that grow under a burst of load and keep it. Set it above a worker's size under normal load (docs/server.md, Memory); 0 never does.",
    }),
    trustedProxies: setting(z.array(z.string().min(1)), {
      default: [],
      shownDefault: 'none',
      description:
        'Comma-separated addresses, CIDR ranges, or loopback/private/linklocal, whose X-Forwarded-For and X-Forwarded-Proto are believed; unix for a proxy connecting over the socket of --bind unix:PATH.',
      example: ['loopback', '10.0.0.0/8'],
    }),
    accessLog: setting(z.boolean(), {
      default: true,
      description: 'One JSON line per request answered (health checks excepted).',
    }),
    logLevel: setting(z.enum(levels), {
      default: 'info',
      env: 'LOG_LEVEL',
      description: 'Lowest log level written: trace, debug, info, warn, error or fatal.',
    }),
    livezPath: setting(urlPath, {
      default: '/livez',
      description: 'Liveness check: 200 while the worker runs. Answered by shipshape, never by your app.',
    }),
    readyzPath: setting(urlPath, {
      default: '/readyz',
      description: 'Readiness check: 200, or 503 while a worker drains, so the load balancer moves on.',
    }),
    pidfile: setting(z.string().min(1), {
      default: '.shipshape/serve.pid',
      description:
        'Where the primary writes its process id, for `shipshape reload`; relative to the working directory.',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_',
    flagPrefix: '',
    description: 'How `shipshape serve` runs your app: workers, timeouts, limits, health checks, logs.',
    checks: [
      {
        uses: ['headersTimeout', 'bodyTimeout'],
        problems: ({ headersTimeout, bodyTimeout }) =>
          bodyTimeout > 0 && headersTimeout > bodyTimeout
            ? [{ key: 'headersTimeout', expected: `no longer than server.bodyTimeout (${bodyTimeout} ms)` }]
            : [],
      },
    ],
  },
)

export type ServerSettings = Infer<typeof serverSettings.shape>

/** The server's options from its settings; relative paths start at `cwd`. */
export function serverOptions(settings: ServerSettings, cwd: string): ServerOptions {
  const { host, port, socketPath } = parseBind(settings.bind) as Bind
  return {
    app: settings.app ?? '',
    kind: settings.kind,
    host,
    port,
    socketPath: socketPath && resolve(cwd, socketPath),
    workers: settings.workers,
    timeoutMs: settings.timeout,
    idleTimeoutMs: settings.idleTimeout,
    routeTimeouts: settings.routeTimeouts.map(
      (entry) => parseRouteTimeout(entry, routeDuration) as RouteTimeout,
    ),
    watchdogTimeoutMs: settings.watchdogTimeout,
    gracefulTimeoutMs: settings.gracefulTimeout,
    keepAliveMs: settings.keepAlive,
    headersTimeoutMs: settings.headersTimeout,
    bodyTimeoutMs: settings.bodyTimeout,
    maxHeaderBytes: settings.maxHeaderSize,
    // 0 turns the limit off.
    maxBodyBytes: settings.maxBodySize || Number.POSITIVE_INFINITY,
    maxRequests: settings.maxRequests,
    maxRequestsJitter: settings.maxRequestsJitter,
    maxMemoryBytes: settings.maxMemory,
    trustedProxies: [...settings.trustedProxies],
    accessLog: settings.accessLog,
    logLevel: settings.logLevel,
    livezPath: settings.livezPath,
    readyzPath: settings.readyzPath,
    pidfile: settings.pidfile,
  }
}

/** A route's duration reads as --timeout's does: a bare number is seconds. */
const routeDuration = (value: string) => parseDuration(value, 's')

type RouteTimeout = ServerOptions['routeTimeouts'][number]

/** `PATTERN=DURATION` (`/events/*=0`, `/export=5m`) as --route-timeouts takes it, or undefined. */
function parseRouteTimeout(
  entry: string,
  parse: (value: string) => number | undefined,
): RouteTimeout | undefined {
  const at = entry.lastIndexOf('=')
  if (at <= 0) return undefined
  const pattern = entry.slice(0, at).trim()
  const ms = parse(entry.slice(at + 1))
  if (!pattern.startsWith('/') || /\s/.test(pattern) || ms === undefined) return undefined
  return { pattern, ms }
}

interface Bind {
  host: string
  port: number
  socketPath: string
}

/** `host:port`, `[v6]:port`, `:port` (every interface), or `unix:PATH`. */
function parseBind(value: string): Bind | undefined {
  if (value.startsWith('unix:')) {
    const socketPath = value.slice('unix:'.length)
    // The kernel's limit on a socket's path (sun_path) is 108 bytes, its terminating NUL included.
    if (socketPath === '' || socketPath.includes('\0') || Buffer.byteLength(socketPath) > 107)
      return undefined
    return { host: '', port: 0, socketPath }
  }
  const match = bindPattern.exec(value)
  const port = Number(match?.[3])
  if (!match || port > 65535) return undefined
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port, socketPath: '' }
}
