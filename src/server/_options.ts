/**
 * shipshape's own settings, declared with shipshape/config like any app's: `serve`'s options in
 * the `server` section, static files in `static`. Each has a flag, an environment variable, a
 * default and a reason; --help, docs/config-reference.md and `shipshape config` come from here.
 * Precedence, lowest first: default < config file (shipshape.yaml|json|toml, or --config) < .env
 * < environment < secret file < command-line flag.
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { z } from 'zod'
import {
  bytes,
  configError,
  defineConfig,
  describe,
  duration,
  type Entry,
  group,
  type Infer,
  type Problem,
  type Resolution,
  resolveConfig,
  setting,
  shownDefault,
} from '../config/index.js'
import { catalogue } from '../errors/index.js'
import { checkSecurityOptions, type SecurityOptions, securityDefaults } from '../security/index.js'
import { normalisePrefix } from '../static/index.js'
import { type StorageSettings, storageProblems } from '../storage/index.js'
import type { AppKind } from '../types.js'

const kinds = ['auto', 'node', 'express', 'connect', 'koa', 'fastify', 'fetch'] as const
const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
const bindPattern = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/
const bindExpected = 'host:port (such as 127.0.0.1:8000, 0.0.0.0:80 or [::]:8000) or unix:PATH'
const isUrlPath = (value: string) => value.startsWith('/') && !/\s/.test(value)
const urlPath = z.string().refine(isUrlPath, { error: 'a path starting with /' })
// Gunicorn's convention: a bare number of seconds, so `--timeout 30` means 30 s.
const seconds = () => duration({ bareUnit: 's' })

export const serverGroup = group(
  {
    app: setting(z.string().min(1), {
      env: 'SHIPSHAPE_APP',
      flag: false,
      description:
        'The module exporting your app (a node:http listener, an Express, Connect, Koa or Fastify app, or { fetch }). Given as the argument of `shipshape serve`.',
      example: 'app.js',
    }),
    kind: setting(z.enum(kinds), {
      default: 'auto',
      description:
        'What the app module exports: auto (detected), node, express, connect, koa, fastify or fetch.',
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
        'A request still running after this gets a 503 and its AbortSignal fires; a worker whose event loop is blocked this long is killed and replaced. About 5s suits most web pages; 0 turns both off.',
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
  },
)

// security/ (runtime): hosts, HTTPS, headers, cross-site requests, direct TLS. See docs/security.md.
// Defaults come from securityDefaults, so serve and an app calling securityMiddleware() agree.
export const securityGroup = group(
  {
    allowedHosts: setting(z.array(z.string().min(1)), {
      default: [...securityDefaults.allowedHosts],
      description:
        'Comma-separated host names the site answers to: example.com, .example.com (with every subdomain), or * (only behind a proxy that checks Host). Any other Host gets a 400, so forged Host headers cannot poison caches or links. The default serves this machine only: add your domain before you deploy.',
      example: ['example.com', '.example.org'],
    }),
    httpsRedirect: setting(z.enum(['auto', 'on', 'off']), {
      default: securityDefaults.httpsRedirect,
      description:
        'Plain-HTTP requests get a 301 to the same URL on https: on, off, or auto (every host except localhost, 127.0.0.1 and ::1, so local development works over HTTP and a real domain is never served in clear). Behind a TLS-terminating proxy, set --trusted-proxies too.',
    }),
    hstsMaxAge: setting(seconds(), {
      default: '365d',
      description:
        'Strict-Transport-Security max-age, sent on HTTPS responses only: browsers then refuse plain HTTP to this host for that long. 0 sends none.',
    }),
    hstsIncludeSubdomains: setting(z.boolean(), {
      default: securityDefaults.hstsIncludeSubdomains,
      description: 'HSTS covers every subdomain too. Turn off if a subdomain must still serve plain HTTP.',
    }),
    hstsPreload: setting(z.boolean(), {
      default: securityDefaults.hstsPreload,
      description:
        'Adds `preload` to HSTS, consent to hstspreload.org listing the domain in browsers. Hard to undo, so opt-in.',
    }),
    csp: setting(z.enum(['enforce', 'report-only', 'off']), {
      default: securityDefaults.csp,
      description:
        "Content-Security-Policy: enforce, report-only (violations logged, nothing blocked: for trying a policy on a live site) or off. Inline scripts and styles need the request's nonce.",
    }),
    cspDirectives: setting(z.string(), {
      default: securityDefaults.cspDirectives,
      shownDefault: 'none',
      description:
        "CSP directives replacing or adding to the built-in ones, as \"img-src 'self' data:; connect-src 'self' https://api.example\".",
    }),
    cspReportPath: setting(
      z
        .string()
        .refine((value) => value === 'off' || isUrlPath(value), { error: 'a path starting with / or off' }),
      {
        default: securityDefaults.cspReportPath,
        description:
          'Where browsers post CSP violations; each is logged as a warning, rate-limited per client. off sends no reports.',
      },
    ),
    crossOriginResourcePolicy: setting(z.enum(['same-origin', 'same-site', 'cross-origin']), {
      default: securityDefaults.crossOriginResourcePolicy,
      description:
        "Which sites may embed this site's responses: same-origin, same-site (assets on a sibling CDN host) or cross-origin (a public API or CDN).",
    }),
    crossSiteProtection: setting(z.boolean(), {
      default: securityDefaults.crossSiteProtection,
      description:
        'Refuse (403) POST, PUT, PATCH and DELETE requests that carry cookies but come from another site (Sec-Fetch-Site, Origin, or a token for old browsers).',
    }),
    tlsCert: setting(z.string().min(1), {
      shownDefault: 'none (plain HTTP; terminate TLS at a proxy)',
      description:
        'PEM certificate chain to serve HTTPS directly. Read when each worker starts, so `shipshape reload` picks up a renewed certificate.',
      example: '/etc/ssl/example.com/fullchain.pem',
    }),
    tlsKey: setting(z.string().min(1), {
      shownDefault: 'none',
      description: 'PEM private key for --tls-cert.',
      example: '/etc/ssl/example.com/privkey.pem',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_',
    flagPrefix: '',
    description:
      'Security headers, allowed hosts, the HTTPS redirect, cross-site request protection and direct TLS. See [security.md](security.md).',
  },
)

// storage/ (media): where uploads live and how they are reached. See docs/storage.md.
export const mediaGroup = group(
  {
    root: setting(z.string().min(1), {
      default: 'media',
      description:
        'Local media: the directory holding one directory per storage (media/public, media/private), relative to the working directory. Created on the first upload.',
    }),
    url: setting(z.string(), {
      default: '/media/',
      description:
        'The URL path local storages are served under, as <media-url><storage>/<key>. Private files need a signed link.',
    }),
    signingKeys: setting(z.array(z.string()), {
      default: [],
      shownDefault: 'none: a random key is generated once into <media-root>/.signing-key',
      secret: true,
      description:
        'Comma-separated keys (32+ characters each) signing links to local private files; the first signs, all verify, so put a new key first to rotate. Set it in production: the generated key is per machine. Prefer the environment to the flag, which other users can see in ps.',
    }),
    driver: setting(z.enum(['local', 's3']), {
      default: 'local',
      description:
        'Where the public and private storages keep files: local (the media root, served by shipshape) or s3 (an S3-compatible bucket; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the AWS SDK chain).',
    }),
    s3Bucket: setting(z.string().min(1), {
      shownDefault: 'none (required with --media-driver s3)',
      description: 'The bucket; storages keep their files under <storage>/ in it.',
      example: 'uploads',
    }),
    s3Region: setting(z.string().min(1), {
      default: 'us-east-1',
      description: "The bucket's region (most S3-compatible servers accept us-east-1).",
    }),
    s3Endpoint: setting(z.url(), {
      shownDefault: "AWS's endpoint for the region",
      description:
        'An S3-compatible server (R2, MinIO, …), reached path-style. Presigned links are signed for this host, so a custom domain here works only if it passes requests to S3 unchanged.',
      example: 'https://s3.eu-central-003.backblazeb2.com',
    }),
    origin: setting(
      z.url().refine((value) => new URL(value).href === `${new URL(value).origin}/`, {
        error: 'an origin: https://host or http://host:port, no path',
      }),
      {
        shownDefault: "none: the site's own origin",
        description:
          "Local media: the separate origin media is served from (a host name of its own pointing at this server). Links then point there, and files a browser would run or apply (JavaScript, CSS, HTML, SVG, XML, JSON, wasm, …) keep their real type on requests for that host. Without it, or on any other host, they are served as application/octet-stream, so an upload never runs as the site's own script or style.",
        example: 'https://media.example-usercontent.com',
      },
    ),
    publicUrl: setting(z.url(), {
      shownDefault: "none: the bucket's own URL",
      description:
        'S3 only: the base URL of a CDN or custom domain in front of the bucket, for public files. Never used for private files, which always get presigned S3 links.',
      example: 'https://cdn.example.com',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_MEDIA_',
    flagPrefix: 'media-',
    description:
      'Media: the public and private storages for uploads, on a local directory or an S3-compatible bucket. See [storage.md](storage.md).',
  },
)

export const staticGroup = group(
  {
    root: setting(z.string().min(1), {
      default: 'staticfiles',
      shownDefault: 'staticfiles (served when that directory exists)',
      description:
        'The directory `shipshape collectstatic` writes and the server serves, relative to the working directory. Indexed once when a worker starts.',
    }),
    url: setting(
      z
        .string()
        .refine(
          (value) => /^https?:\/\/[^/\s]+\/\S*$/.test(value) || (value.startsWith('/') && !/\s/.test(value)),
          {
            error: 'a path such as /static/, or an absolute https:// URL',
          },
        )
        .transform(normalisePrefix),
      {
        default: '/static/',
        description:
          'The URL path static files are served under; staticUrl() builds links with it. An absolute URL (a CDN in front) is used for links, its path for serving.',
      },
    ),
    maxAge: setting(seconds(), {
      default: '60s',
      description:
        'Browser cache lifetime of static files whose names are not content-hashed (a changed file reaches browsers within it). Hashed names are always cached for a year as immutable.',
    }),
    sources: setting(z.array(z.string().min(1)), {
      default: ['static'],
      flag: false,
      description:
        'The directories `shipshape collectstatic` collects when none is named on its command line, in order (a name found in several comes from the first), relative to the working directory.',
    }),
    allowOrigin: setting(z.string().min(1), {
      shownDefault: 'none (not sent)',
      description:
        'Access-Control-Allow-Origin on static files, for fonts and modules loaded from another origin (a CDN): an origin or *.',
      example: 'https://www.example.com',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_STATIC_',
    flagPrefix: 'static-',
    description: 'Static files: built by `shipshape collectstatic`, served by every worker from memory.',
  },
)

export const checksGroup = group(
  {
    silenced: setting(z.array(z.string().min(1)), {
      default: [],
      shownDefault: 'none',
      env: 'SHIPSHAPE_SILENCED_CHECKS',
      flag: false,
      description:
        "Ids of `shipshape check --deploy` checks not to run, for risks you have decided to accept (as Django's SILENCED_SYSTEM_CHECKS). An id that names no check is reported. `shipshape check --silence <id>` adds to them.",
      example: ['hsts-preload'],
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_CHECKS_',
    flagPrefix: 'checks-',
    description:
      '`shipshape check --deploy`, the deploy checklist. See [deploy-checks.md](deploy-checks.md).',
  },
)

/** Every shipshape setting. A capability adds its section here; see docs/config.md. */
export const shipshapeConfig = defineConfig(
  {
    server: serverGroup,
    security: securityGroup,
    static: staticGroup,
    media: mediaGroup,
    checks: checksGroup,
  },
  {
    envPrefix: 'SHIPSHAPE_',
    checks: [
      {
        key: 'server.headersTimeout',
        test: ({ server }) =>
          server.bodyTimeout > 0 && server.headersTimeout > server.bodyTimeout
            ? `no longer than server.bodyTimeout (${server.bodyTimeout} ms)`
            : undefined,
      },
      {
        key: 'security.allowedHosts',
        uses: [],
        test: ({ security }) => securityProblem({ allowedHosts: [...security.allowedHosts] }),
      },
      {
        key: 'security.hstsPreload',
        uses: ['security.hstsMaxAge', 'security.hstsIncludeSubdomains'],
        test: ({ security }) =>
          securityProblem({
            hstsMaxAgeSeconds: Math.floor(security.hstsMaxAge / 1000),
            hstsIncludeSubdomains: security.hstsIncludeSubdomains,
            hstsPreload: security.hstsPreload,
          }),
      },
      {
        key: 'security.cspDirectives',
        uses: ['security.csp', 'security.cspReportPath'],
        test: ({ security }) =>
          securityProblem({
            csp: security.csp,
            cspDirectives: security.cspDirectives,
            cspReportPath: security.cspReportPath === 'off' ? '' : security.cspReportPath,
          }),
      },
      {
        key: 'security.tlsCert',
        uses: ['security.tlsKey'],
        test: ({ security }) =>
          (security.tlsCert === undefined) !== (security.tlsKey === undefined)
            ? 'security.tlsCert (--tls-cert) and security.tlsKey (--tls-key) together: both to serve HTTPS directly, or neither'
            : undefined,
      },
      { key: 'security.tlsCert', uses: [], test: ({ security }) => missingFile(security.tlsCert) },
      { key: 'security.tlsKey', uses: [], test: ({ security }) => missingFile(security.tlsKey) },
      // storage/ checks the media settings as a whole; each problem goes to the setting it names.
      ...(
        [
          ['media.url', 'urlPrefix'],
          ['media.signingKeys', 'signing key'],
          ['media.s3Bucket', 's3.bucket'],
        ] as const
      ).map(([key, word]) => ({
        key,
        uses: ['media.driver', 'media.publicUrl'],
        test: (settings: { media: MediaValues }) =>
          storageProblems(mediaStorage(settings.media, process.cwd()))
            .filter((problem) => problem.includes(word))
            .filter((problem, index, all) => all.indexOf(problem) === index)
            .join('; ') || undefined,
      })),
      {
        key: 'media.publicUrl',
        uses: ['media.driver'],
        test: ({ media }) =>
          media.publicUrl !== undefined && media.driver !== 's3'
            ? 'to be set only with media.driver s3'
            : undefined,
      },
    ],
  },
)

export type ShipshapeSettings = Infer<typeof shipshapeConfig.shape>

/** Where shipshape looks for its config file when neither --config nor SHIPSHAPE_CONFIG names one. */
export const configFiles = ['shipshape.yaml', 'shipshape.yml', 'shipshape.json', 'shipshape.toml']

export interface ShipshapeLoadOptions {
  /** Flag values keyed by flag name without `--` (`timeout`, `static-root`). */
  flags?: Readonly<Record<string, string>>
  /** The config file given by --config. */
  configFile?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Keys that must be set for this command (`server.app` for serve). */
  require?: readonly string[]
  /** The app module given as an argument. */
  app?: string
  /** Values by dotted key, as `shipshape config --set server.timeout=5s` gives them. */
  set?: Readonly<Record<string, string>>
}

/**
 * Loads shipshape's settings from every source. Unknown SHIPSHAPE_ variables are warnings, not
 * errors: the prefix is shared with shipshape's own process plumbing.
 */
export function loadShipshapeSettings(options: ShipshapeLoadOptions = {}): Resolution<ShipshapeSettings> {
  const overrides: Record<string, string | { value: string; source: string }> = {}
  for (const [key, value] of Object.entries(options.set ?? {}))
    overrides[key] = { value, source: `--set ${key}` }
  for (const entry of shipshapeConfig.entries) {
    const value = entry.flag ? options.flags?.[entry.flag] : undefined
    if (value !== undefined) overrides[entry.key] = value
  }
  if (options.app !== undefined) overrides['server.app'] = { value: options.app, source: 'the app argument' }
  return resolveConfig(shipshapeConfig, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    file: options.configFile,
    files: configFiles,
    overrides,
    require: options.require,
    unknownEnv: 'warn',
    allowEnv: ['SHIPSHAPE_REQUIRE_SERVICES'],
  })
}

/** serve's options: its own, and the security middleware's, which every worker is given as they are. */
export interface ServeOptions extends SecurityOptions {
  app: string
  kind: AppKind | 'auto'
  host: string
  port: number
  /** The Unix socket to listen on instead of host and port ('' for TCP). */
  socketPath: string
  workers: number
  timeoutMs: number
  gracefulTimeoutMs: number
  keepAliveMs: number
  headersTimeoutMs: number
  bodyTimeoutMs: number
  maxHeaderBytes: number
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
  /** Both set, or neither. */
  tlsCertFile: string | undefined
  tlsKeyFile: string | undefined
  /** An absolute path; served only when the directory exists (an explicitly set one must exist). */
  staticRoot: string
  staticUrl: string
  staticMaxAgeMs: number
  staticAllowOrigin: string | undefined
  /** Where media lives and how it is reached: handed to configureStorages() in every worker. */
  media: StorageSettings
}

/**
 * Resolves `serve`'s options. Every problem is reported at once, naming the flag, variable or
 * file line it came from, before anything starts. `flags` are keyed by flag name without `--`
 * (`max-body-size`) or its camelCase (`maxBodySize`).
 */
export function resolveServeOptions(
  app: string | undefined,
  flags: Readonly<Record<string, string>> = {},
  env: NodeJS.ProcessEnv = process.env,
  options: { configFile?: string; cwd?: string; onWarning?: (problem: Problem) => void } = {},
): ServeOptions {
  const byFlag: Record<string, string> = {}
  for (const [name, value] of Object.entries(flags))
    byFlag[name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = value
  const cwd = options.cwd ?? process.cwd()
  const resolution = loadShipshapeSettings({ ...options, flags: byFlag, env, app, require: ['server.app'] })
  for (const warning of resolution.warnings) options.onWarning?.(warning)
  // The default static directory is served only when it exists; one chosen on purpose must exist
  // (checked here, not in the declaration: collectstatic is what creates it).
  const problems = [...resolution.problems]
  const root = resolution.settled.get('static.root')
  const rootOrigin = resolution.origins.get('static.root')
  if (
    typeof root === 'string' &&
    root !== staticGroup.shape.root.options.default &&
    !existsSync(resolve(cwd, root)) &&
    rootOrigin
  ) {
    problems.push({
      key: 'static.root',
      source: rootOrigin.label,
      expected: 'an existing directory (run `shipshape collectstatic` first)',
      found: JSON.stringify(root),
    })
  }
  if (resolution.values === undefined || problems.length > 0)
    throw configError(problems, 'SHIPSHAPE_E_BAD_OPTION')
  const { server, security, static: statics, media } = resolution.values
  const { host, port, socketPath } = parseBind(server.bind) as Bind
  return {
    app: server.app ?? '',
    kind: server.kind,
    host,
    port,
    socketPath: socketPath && resolve(cwd, socketPath),
    workers: server.workers,
    timeoutMs: server.timeout,
    gracefulTimeoutMs: server.gracefulTimeout,
    keepAliveMs: server.keepAlive,
    headersTimeoutMs: server.headersTimeout,
    bodyTimeoutMs: server.bodyTimeout,
    maxHeaderBytes: server.maxHeaderSize,
    // 0 turns the limit off.
    maxBodyBytes: server.maxBodySize || Number.POSITIVE_INFINITY,
    maxRequests: server.maxRequests,
    maxRequestsJitter: server.maxRequestsJitter,
    maxMemoryBytes: server.maxMemory,
    trustedProxies: [...server.trustedProxies],
    accessLog: server.accessLog,
    logLevel: server.logLevel,
    livezPath: server.livezPath,
    readyzPath: server.readyzPath,
    pidfile: server.pidfile,
    allowedHosts: [...security.allowedHosts],
    httpsRedirect: security.httpsRedirect,
    hstsMaxAgeSeconds: Math.floor(security.hstsMaxAge / 1000),
    hstsIncludeSubdomains: security.hstsIncludeSubdomains,
    hstsPreload: security.hstsPreload,
    csp: security.csp,
    cspDirectives: security.cspDirectives,
    cspReportPath: security.cspReportPath === 'off' ? '' : security.cspReportPath,
    crossOriginResourcePolicy: security.crossOriginResourcePolicy,
    crossSiteProtection: security.crossSiteProtection,
    tlsCertFile: security.tlsCert,
    tlsKeyFile: security.tlsKey,
    staticRoot: resolve(cwd, statics.root),
    staticUrl: statics.url,
    staticMaxAgeMs: statics.maxAge,
    staticAllowOrigin: statics.allowOrigin,
    media: mediaStorage(media, cwd),
  }
}

type MediaValues = Infer<typeof mediaGroup.shape>

/** The media settings as storage/ takes them: one public and one private storage. */
function mediaStorage(media: MediaValues, cwd: string): StorageSettings {
  return {
    root: resolve(cwd, media.root),
    urlPrefix: media.url,
    ...(media.origin ? { origin: media.origin } : {}),
    signingKeys: [...media.signingKeys],
    driver: media.driver,
    ...(media.driver === 's3'
      ? {
          s3: {
            bucket: media.s3Bucket ?? '',
            region: media.s3Region,
            ...(media.s3Endpoint ? { endpoint: media.s3Endpoint } : {}),
          },
          storages: {
            public: { visibility: 'public', ...(media.publicUrl ? { publicUrl: media.publicUrl } : {}) },
            private: { visibility: 'private' },
          },
        }
      : {}),
  }
}

/** What security/ finds wrong with these options (a bad host entry, a malformed directive), if anything. */
function securityProblem(options: Partial<SecurityOptions>): string | undefined {
  try {
    checkSecurityOptions(options)
    return undefined
  } catch (error) {
    return (error as Error).message.replace(`${catalogue.SHIPSHAPE_E_BAD_OPTION.message}: `, '')
  }
}

function missingFile(path: string | undefined): string | undefined {
  return path !== undefined && !existsSync(path) ? 'the path of an existing PEM file' : undefined
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

/**
 * The settings a command needs, from every source (flags, --config, environment): their own
 * problems stop the command, other settings' problems do not.
 */
export function loadShipshapeSettingsFor(
  keys: readonly string[],
  options: ShipshapeLoadOptions = {},
): Record<string, unknown> {
  const resolution = loadShipshapeSettings(options)
  const own = resolution.problems.filter(
    (problem) => keys.includes(problem.key) || problem.key === '(config file)',
  )
  if (own.length > 0) throw configError(own, 'SHIPSHAPE_E_BAD_OPTION')
  return Object.fromEntries(keys.map((key) => [key, resolution.settled.get(key)]))
}

/** The setting behind a flag, for commands that read one or two settings (`reload`, `collectstatic`). */
export function settingForFlag(flag: string): Entry {
  const entry = shipshapeConfig.entries.find((candidate) => candidate.flag === flag)
  if (!entry) throw new Error(`no shipshape setting has the flag --${flag}`)
  return entry
}

/** `--help` text for the settings with flags in the given sections: each flag with its variable and default. */
export function describeOptions(sections: readonly string[] = ['server', 'security', 'static']): string {
  return shipshapeConfig.entries
    .filter((entry) => entry.flag && sections.includes(entry.section))
    .map((entry) => describeFlag(entry))
    .join('\n')
}

export function describeFlag(entry: Entry): string {
  const env = [entry.env, ...(entry.setting.options.envFallback?.names ?? [])].join(', ')
  return `  --${entry.flag} <${typeName(entry)}>\n      ${entry.setting.options.description}\n      env ${env}; default ${shownDefault(entry)}`
}

function typeName(entry: Entry): string {
  const { type } = describe(entry.setting.schema)
  return type.startsWith('one of')
    ? type.slice('one of '.length).split(', ').join('|')
    : type.replace(/ /g, '-')
}
