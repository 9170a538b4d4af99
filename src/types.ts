/**
 * The contract between shipshape's parts. Every capability builds on these types; nothing
 * outside http/ and server/ knows which kind of app is wrapped.
 */
import type { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

/**
 * The kinds of app `shipshape serve` can wrap, listed once: the adapters, `--kind` and its help
 * read this list (`auto`, which detects the kind from the module's export, comes on top).
 */
export const appKinds = [
  'node',
  'express',
  'connect',
  'koa',
  'fastify',
  'fetch',
  'next',
  'react-router',
] as const
export type AppKind = (typeof appKinds)[number]

/**
 * What one worker holds for its whole life: built once, when its pipeline is built at start-up,
 * then shared by every request it serves as `ctx.worker`. Nothing here is module-level state, so
 * two pipelines in one process (tests, an app embedding shipshape twice) never see each other's.
 *
 * Each capability declares its own slot from its own folder, by declaration merging, and fills
 * it through the middleware it provides (`Middleware.provides`) or the pipeline's `worker`
 * option:
 *
 * ```ts
 * declare module '../types.js' {
 *   interface WorkerState { hosts?: HostRules }
 * }
 * ```
 *
 * Slots today, besides `answerHeaders` below: `hosts` (security: the Host allow-list, read by
 * `isAllowedHost()` and `absoluteUrl()`), `staticFiles` (static: the manifest and prefix
 * `staticUrl()` reads) and `storages` (storage: what `storage()` returns). A capability added
 * later (the db pool, the cache, the error reporter) adds its slot the same way. Code outside a
 * request has no worker state: each helper documents what it falls back to there.
 */
export interface WorkerState {
  /**
   * The headers every answer of this worker carries, shipshape's own short answers included,
   * even those given before any middleware ran (a repeated Host, a body over the limit, a
   * request node:http could not parse). The security middleware provides its headers here;
   * `https` adds the ones sent over HTTPS only (HSTS).
   */
  readonly answerHeaders?: (https: boolean) => readonly (readonly [string, string])[]
  /**
   * What every request's `ctx.state` inherits through its prototype: the security middleware's
   * `cspNonce` getter. Inherited rather than defined on each request's state, which cost about
   * 3 µs a request (Object.defineProperty on a fresh object).
   */
  readonly requestState?: object
  /** Under `shipshape serve`: messages to this server's other workers, relayed by the primary. */
  readonly relay?: Relay
  /** Under `shipshape serve`: counters shared by every worker, kept in the primary (the auth limiter's). */
  readonly counters?: SharedCounters
  /** The pipeline's own: fires when the worker starts draining (see `RequestContext.drainSignal`). */
  readonly drainSignal?: AbortSignal
  /**
   * Called once per request as it finishes, before its access line, whose fields it may add to.
   * The db APM provides it: per-route figures, N+1 reports, and the request's query count and
   * database time on the access line.
   */
  readonly finishRequest?: (
    ctx: RequestContext,
    finished: FinishedRequest,
  ) => Record<string, unknown> | undefined
}

/**
 * A worker's channel to the other workers of its server, through the primary (src/server/_relay.ts):
 * what one publishes on a channel reaches every other ready worker, not itself. For small, rare
 * messages (cache invalidations, shared counters): each costs a hop over IPC and JSON.
 */
export interface Relay {
  publish(channel: string, data: unknown): void
  /** Calls `handler` with each message other workers publish on `channel`; returns the unsubscribe. */
  subscribe(channel: string, handler: (data: unknown) => void): () => void
}

/**
 * Counters every worker of a server shares, kept in the primary (src/server/_counters.ts): each
 * key holds a number until its expiry. Each call costs a round trip over IPC (tens of µs).
 */
export interface SharedCounters {
  /** Adds `by` to `key` and resolves to its new value; a new key expires `ttlMs` from now, an existing one keeps its expiry. */
  add(key: string, by: number, ttlMs: number): Promise<number>
  /** Sets `key` to `value`, expiring `ttlMs` from now. */
  set(key: string, value: number, ttlMs: number): Promise<void>
  /** Each key's value and milliseconds left (0 and 0 for a key absent or expired). */
  get(keys: string[]): Promise<CounterRead[]>
  delete(keys: string[]): Promise<void>
}

export interface CounterRead {
  value: number
  ttlMs: number
}

/** A request as it finishes, measured once by the pipeline for everything that reads it. */
export interface FinishedRequest {
  /** The response status; 0 when the client went away first. */
  status: number
  /** Milliseconds since the request arrived. */
  ms: number
  /** Its route name (see `routeName`): worked out once, for the metrics and the APM. */
  route: string
}

/** One request as shipshape sees it. Made once per request, reachable anywhere through `getContext()`. */
export interface RequestContext {
  /** The request id: a valid inbound `X-Request-Id`, or a fresh one. Echoed in the response. */
  readonly id: string
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly method: string
  /** The path without the query string, exactly as the client sent it (not percent-decoded). */
  readonly path: string
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number
  /** Fires when the request times out or the client goes away. Pass it to fetch(), queries, streams. */
  readonly signal: AbortSignal
  /**
   * Fires when the worker starts draining (reload, shutdown, recycling), while the request may
   * still finish: end a stream (an SSE `retry:` hint first), answer a long poll now, so the
   * client reconnects to a new worker instead of being cut off at the graceful timeout.
   */
  readonly drainSignal: AbortSignal
  /**
   * This request's own time limit, from now: `ms` until the response's first byte (then the
   * idle timeout applies, as for every stream), or 0 for no limit at all (the app takes charge;
   * `signal` still fires when the client goes away). Replaces `--timeout` and any
   * `--route-timeouts` entry for this request. Throws SHIPSHAPE_E_ARGUMENT for a negative or
   * non-finite `ms`.
   */
  setTimeout(ms: number): void
  /** The client's address: X-Forwarded-For is believed only from a trusted proxy. */
  readonly clientIp: string
  /** `https` when the socket is TLS, or a trusted proxy says so through X-Forwarded-Proto. */
  readonly protocol: 'http' | 'https'
  /** Values middleware hands on to later middleware and to the app (a CSP nonce, a user). */
  readonly state: Record<string, unknown>
  /** The state of the worker serving this request (host rules, manifest, storages): see WorkerState. */
  readonly worker: WorkerState
  /**
   * Logs an error the app's framework answered itself (Koa's and Fastify's own 500s), with its
   * stack and the request id, like an error the pipeline caught. Adapters call it.
   */
  reportError(error: unknown): void
  /** Adds `ms` to the time `part` (cache, db) took in this request; the access line shows it as `<part>Ms`. */
  addTiming(part: string, ms: number): void
}

export type Next = () => Promise<void>

/**
 * A middleware is made once at start-up by a factory (`staticFiles(options)`), which returns a
 * named function. It either answers the request itself or awaits `next()`.
 */
export interface Middleware {
  (ctx: RequestContext, next: Next): Promise<void> | void
  /**
   * What this middleware adds to the worker's state (`securityMiddleware()` its host rules,
   * `staticFiles()` its manifest), merged once when the pipeline is built. Two middleware
   * providing the same slot stop the build: which one a helper read would be an accident.
   */
  readonly provides?: WorkerState
}

/** The user's app after adaptation. Resolves once the response has been handed to the socket. */
export interface AppHandler {
  (ctx: RequestContext): Promise<void>
  /**
   * The app's upgrade server: the node:http server (never listening) whose `upgrade` listeners
   * its WebSocket library added (`ws`, Socket.IO, @fastify/websocket, @hono/node-ws). Upgrade
   * requests go there once shipshape has checked them. None: upgrades are requests like others.
   */
  readonly upgrades?: EventEmitter
  /** The app's own shutdown hooks (Fastify's and Nest's close(), the module's `close` export). */
  readonly close?: () => Promise<void>
}

/** What a worker tells the primary about one request it holds (heartbeats, watchdog logs). */
export interface RequestSummary {
  id: string
  method: string
  path: string
  /** Milliseconds since the request arrived. */
  elapsedMs: number
}

/** The per-worker request pipeline: built once at start-up, then used for every request. */
export interface Pipeline {
  /** The state shared by every request through this pipeline (see WorkerState). */
  readonly worker: WorkerState
  /** The node:http `request` listener. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void
  /** Requests in flight, oldest first. */
  inflight(): RequestSummary[]
  /** Requests answered since the worker started (for `--max-requests`). */
  served(): number
  /** Begin draining: `/readyz` answers 503, every response closes its connection, drainSignal fires, WebSockets get a close frame 1001. */
  drain(): void
  /** node:http's `upgrade` listener, when the app has an upgrade server (see AppHandler.upgrades). */
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void
  /** Resolves once no request is in flight. */
  idle(): Promise<void>
}

/**
 * What one `shipshape <name>` command does, exported as `command` by src/cli/<name>.ts. Commands
 * reach capabilities only through their index.ts.
 */
export interface Command {
  /** The whole `shipshape <name> --help` text: usage, arguments, every option with its default. */
  readonly help: string
  /**
   * Runs the command; resolves to the process's exit code. A command line of the wrong shape (an
   * unknown option, a missing value, an argument too many) throws `SHIPSHAPE_E_USAGE` and exits 2;
   * another error thrown exits 1 (check and scan report theirs and exit 2 themselves).
   */
  run(args: string[]): Promise<number>
}

/**
 * One line of the command registry (src/cli/_commands.ts): enough for `shipshape --help` and for
 * finding a command, without importing its module. `load` imports it, only when it runs.
 */
export interface CommandEntry {
  readonly name: string
  /** One line, shown by `shipshape --help`. */
  readonly summary: string
  load(): Promise<{ command: Command }>
}

/**
 * What the server settings group (src/server/_settings.ts) becomes for the primary and each
 * worker: plain values (sent to workers as JSON), units in the names. Stated here, below every
 * capability, so the deploy checks read it without importing server/.
 */
export interface ServerOptions {
  app: string
  kind: AppKind | 'auto'
  host: string
  port: number
  /** The Unix socket to listen on instead of host and port ('' for TCP). */
  socketPath: string
  workers: number
  /** Time to the response's first byte; 0: none. */
  timeoutMs: number
  /** Longest time a started response may send nothing; 0: none. */
  idleTimeoutMs: number
  /** Own time limits by path pattern, first match wins; `ms` 0: none at all. */
  routeTimeouts: { pattern: string; ms: number }[]
  /** A worker whose event loop is blocked this long is killed; 0: never. */
  watchdogTimeoutMs: number
  gracefulTimeoutMs: number
  keepAliveMs: number
  headersTimeoutMs: number
  bodyTimeoutMs: number
  maxHeaderBytes: number
  /** Infinity when unlimited (it travels to workers as null, which JSON has instead). */
  maxBodyBytes: number
  maxRequests: number
  maxRequestsJitter: number
  /** RSS in bytes past which a worker asks to be replaced; 0 never. */
  maxMemoryBytes: number
  trustedProxies: string[]
  accessLog: boolean
  logLevel: string
  livezPath: string
  readyzPath: string
  pidfile: string
}

/**
 * Where shipshape's own settings come from besides flags, the same for `serve`, every command and
 * staticUrl() outside serve. Unknown SHIPSHAPE_ variables are warnings, not errors: the prefix is
 * shared with shipshape's own process plumbing.
 */
export const shipshapeSources = {
  envPrefix: 'SHIPSHAPE_',
  /** Tried in order when neither --config nor SHIPSHAPE_CONFIG names the config file. */
  files: ['shipshape.yaml', 'shipshape.yml', 'shipshape.json', 'shipshape.toml'],
  unknownEnv: 'warn',
} as const
