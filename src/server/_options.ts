/**
 * Every `shipshape serve` option, declared once: its flag, environment variable, type, default
 * and why. The CLI's --help, docs/server.md and the parser all come from this table.
 * Precedence, lowest first: default < environment < command-line flag.
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { ShipshapeError } from '../errors/index.js'
import { checkSecurityOptions, type SecurityOptions } from '../security/index.js'
import { type StorageSettings, storageProblems } from '../storage/index.js'
import type { AppKind } from '../types.js'

type Kind = 'string' | 'integer' | 'duration' | 'bytes' | 'boolean' | 'list'

interface Field {
  /** The command-line flag, without `--`. */
  flag: string
  env: string
  kind: Kind
  /** The default as the user would write it; `undefined` means none. */
  default: string | undefined
  /** How the default reads in the docs when it is computed. */
  shownDefault?: string
  description: string
  /** A secret: never printed, and masked wherever values are shown. */
  secret?: boolean
}

export const fields = {
  kind: {
    flag: 'kind',
    env: 'SHIPSHAPE_KIND',
    kind: 'string',
    default: 'auto',
    description:
      'What the app module exports: auto (detected), node, express, connect, koa, fastify or fetch.',
  },
  bind: {
    flag: 'bind',
    env: 'SHIPSHAPE_BIND',
    kind: 'string',
    default: '127.0.0.1:8000',
    shownDefault: '127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set (HOST overrides the host)',
    description:
      'host:port to listen on. Loopback by default, so nothing is exposed until you choose to; platforms that set PORT get every interface.',
  },
  workers: {
    flag: 'workers',
    env: 'SHIPSHAPE_WORKERS',
    kind: 'integer',
    default: undefined,
    shownDefault: 'the number of CPUs available',
    description:
      'Worker processes. One per CPU uses the machine; each costs the memory of one copy of your app.',
  },
  timeout: {
    flag: 'timeout',
    env: 'SHIPSHAPE_TIMEOUT',
    kind: 'duration',
    default: '30s',
    description:
      'A request still running after this gets a 503 and its AbortSignal fires; a worker whose event loop is blocked this long is killed and replaced. About 5s suits most web pages; 0 turns both off.',
  },
  gracefulTimeout: {
    flag: 'graceful-timeout',
    env: 'SHIPSHAPE_GRACEFUL_TIMEOUT',
    kind: 'duration',
    default: '30s',
    description:
      'On shutdown or reload, how long in-flight requests may take to finish before their worker is killed.',
  },
  keepAlive: {
    flag: 'keep-alive',
    env: 'SHIPSHAPE_KEEP_ALIVE',
    kind: 'duration',
    default: '75s',
    description:
      "How long an idle keep-alive connection stays open. Keep it above your load balancer's idle timeout (AWS ALB: 60s), or clients see occasional 502s.",
  },
  headersTimeout: {
    flag: 'headers-timeout',
    env: 'SHIPSHAPE_HEADERS_TIMEOUT',
    kind: 'duration',
    default: '10s',
    description: 'Time a client has to send its request headers (408 after): cuts off slowloris clients.',
  },
  bodyTimeout: {
    flag: 'body-timeout',
    env: 'SHIPSHAPE_BODY_TIMEOUT',
    kind: 'duration',
    default: '5m',
    description:
      'Time a client has to send its whole request, body included (408 after). Long enough for a large upload on a slow line.',
  },
  maxHeaderSize: {
    flag: 'max-header-size',
    env: 'SHIPSHAPE_MAX_HEADER_SIZE',
    kind: 'bytes',
    default: '16KiB',
    description: 'Largest request line plus headers (431 beyond it).',
  },
  maxBodySize: {
    flag: 'max-body-size',
    env: 'SHIPSHAPE_MAX_BODY_SIZE',
    kind: 'bytes',
    default: '10MB',
    description:
      'Largest request body (413 beyond it, before your app runs). Raise it for large uploads; 0 turns the limit off.',
  },
  maxRequests: {
    flag: 'max-requests',
    env: 'SHIPSHAPE_MAX_REQUESTS',
    kind: 'integer',
    default: '0',
    description:
      'Replace a worker after it has answered this many requests, to contain slow memory leaks; 0 never does.',
  },
  maxRequestsJitter: {
    flag: 'max-requests-jitter',
    env: 'SHIPSHAPE_MAX_REQUESTS_JITTER',
    kind: 'integer',
    default: '0',
    description:
      'Adds a random 0..N to --max-requests per worker, so workers are not all replaced at the same moment.',
  },
  trustedProxies: {
    flag: 'trusted-proxies',
    env: 'SHIPSHAPE_TRUSTED_PROXIES',
    kind: 'list',
    default: '',
    shownDefault: 'none',
    description:
      'Comma-separated addresses, CIDR ranges, or loopback/private/linklocal, whose X-Forwarded-For and X-Forwarded-Proto are believed.',
  },
  accessLog: {
    flag: 'access-log',
    env: 'SHIPSHAPE_ACCESS_LOG',
    kind: 'boolean',
    default: 'true',
    description: 'One JSON line per request answered (health checks excepted).',
  },
  logLevel: {
    flag: 'log-level',
    env: 'LOG_LEVEL',
    kind: 'string',
    default: 'info',
    description: 'Lowest log level written: trace, debug, info, warn, error or fatal.',
  },
  livez: {
    flag: 'livez-path',
    env: 'SHIPSHAPE_LIVEZ_PATH',
    kind: 'string',
    default: '/livez',
    description: 'Liveness check: 200 while the worker runs. Answered by shipshape, never by your app.',
  },
  readyz: {
    flag: 'readyz-path',
    env: 'SHIPSHAPE_READYZ_PATH',
    kind: 'string',
    default: '/readyz',
    description: 'Readiness check: 200, or 503 while a worker drains, so the load balancer moves on.',
  },
  // security/ (runtime): hosts, HTTPS, headers, cross-site requests, direct TLS. See docs/security.md.
  allowedHosts: {
    flag: 'allowed-hosts',
    env: 'SHIPSHAPE_ALLOWED_HOSTS',
    kind: 'list',
    default: 'localhost,127.0.0.1,::1',
    description:
      'Comma-separated host names the site answers to: example.com, .example.com (with every subdomain), or * (only behind a proxy that checks Host). Any other Host gets a 400, so forged Host headers cannot poison caches or links. The default serves this machine only: add your domain before you deploy.',
  },
  httpsRedirect: {
    flag: 'https-redirect',
    env: 'SHIPSHAPE_HTTPS_REDIRECT',
    kind: 'string',
    default: 'auto',
    description:
      'Plain-HTTP requests get a 301 to the same URL on https: on, off, or auto (every host except localhost, 127.0.0.1 and ::1, so local development works over HTTP and a real domain is never served in clear). Behind a TLS-terminating proxy, set --trusted-proxies too.',
  },
  hstsMaxAge: {
    flag: 'hsts-max-age',
    env: 'SHIPSHAPE_HSTS_MAX_AGE',
    kind: 'duration',
    default: '365d',
    description:
      'Strict-Transport-Security max-age, sent on HTTPS responses only: browsers then refuse plain HTTP to this host for that long. 0 sends none.',
  },
  hstsIncludeSubdomains: {
    flag: 'hsts-include-subdomains',
    env: 'SHIPSHAPE_HSTS_INCLUDE_SUBDOMAINS',
    kind: 'boolean',
    default: 'true',
    description: 'HSTS covers every subdomain too. Turn off if a subdomain must still serve plain HTTP.',
  },
  hstsPreload: {
    flag: 'hsts-preload',
    env: 'SHIPSHAPE_HSTS_PRELOAD',
    kind: 'boolean',
    default: 'false',
    description:
      'Adds `preload` to HSTS, consent to hstspreload.org listing the domain in browsers. Hard to undo, so opt-in.',
  },
  csp: {
    flag: 'csp',
    env: 'SHIPSHAPE_CSP',
    kind: 'string',
    default: 'enforce',
    description:
      "Content-Security-Policy: enforce, report-only (violations logged, nothing blocked: for trying a policy on a live site) or off. Inline scripts and styles need the request's nonce.",
  },
  cspDirectives: {
    flag: 'csp-directives',
    env: 'SHIPSHAPE_CSP_DIRECTIVES',
    kind: 'string',
    default: '',
    shownDefault: 'none',
    description:
      "CSP directives replacing or adding to the built-in ones, as \"img-src 'self' data:; connect-src 'self' https://api.example\".",
  },
  cspReportPath: {
    flag: 'csp-report-path',
    env: 'SHIPSHAPE_CSP_REPORT_PATH',
    kind: 'string',
    default: '/_shipshape/csp-report',
    description:
      'Where browsers post CSP violations; each is logged as a warning, rate-limited per client. off sends no reports.',
  },
  crossOriginResourcePolicy: {
    flag: 'cross-origin-resource-policy',
    env: 'SHIPSHAPE_CROSS_ORIGIN_RESOURCE_POLICY',
    kind: 'string',
    default: 'same-origin',
    description:
      "Which sites may embed this site's responses: same-origin, same-site (assets on a sibling CDN host) or cross-origin (a public API or CDN).",
  },
  crossSiteProtection: {
    flag: 'cross-site-protection',
    env: 'SHIPSHAPE_CROSS_SITE_PROTECTION',
    kind: 'boolean',
    default: 'true',
    description:
      'Refuse (403) POST, PUT, PATCH and DELETE requests that carry cookies but come from another site (Sec-Fetch-Site, Origin, or a token for old browsers).',
  },
  tlsCert: {
    flag: 'tls-cert',
    env: 'SHIPSHAPE_TLS_CERT',
    kind: 'string',
    default: undefined,
    shownDefault: 'none (plain HTTP; terminate TLS at a proxy)',
    description:
      'PEM certificate chain to serve HTTPS directly. Read when each worker starts, so `shipshape reload` picks up a renewed certificate.',
  },
  tlsKey: {
    flag: 'tls-key',
    env: 'SHIPSHAPE_TLS_KEY',
    kind: 'string',
    default: undefined,
    shownDefault: 'none',
    description: 'PEM private key for --tls-cert.',
  },
  staticRoot: {
    flag: 'static-root',
    env: 'SHIPSHAPE_STATIC_ROOT',
    kind: 'string',
    default: 'staticfiles',
    shownDefault: 'staticfiles (served when that directory exists)',
    description:
      'The directory `shipshape collectstatic` writes and the server serves, relative to the working directory. Indexed once when a worker starts.',
  },
  staticUrl: {
    flag: 'static-url',
    env: 'SHIPSHAPE_STATIC_URL',
    kind: 'string',
    default: '/static/',
    description:
      'The URL path static files are served under; staticUrl() builds links with it. An absolute URL (a CDN in front) is used for links, its path for serving.',
  },
  staticMaxAge: {
    flag: 'static-max-age',
    env: 'SHIPSHAPE_STATIC_MAX_AGE',
    kind: 'duration',
    default: '60s',
    description:
      'Browser cache lifetime of static files whose names are not content-hashed (a changed file reaches browsers within it). Hashed names are always cached for a year as immutable.',
  },
  staticAllowOrigin: {
    flag: 'static-allow-origin',
    env: 'SHIPSHAPE_STATIC_ALLOW_ORIGIN',
    kind: 'string',
    default: undefined,
    shownDefault: 'none (not sent)',
    description:
      'Access-Control-Allow-Origin on static files, for fonts and modules loaded from another origin (a CDN): an origin or *.',
  },
  mediaRoot: {
    flag: 'media-root',
    env: 'SHIPSHAPE_MEDIA_ROOT',
    kind: 'string',
    default: 'media',
    description:
      'Local media: the directory holding one directory per storage (media/public, media/private), relative to the working directory. Created on the first upload.',
  },
  mediaUrl: {
    flag: 'media-url',
    env: 'SHIPSHAPE_MEDIA_URL',
    kind: 'string',
    default: '/media/',
    description:
      'The URL path local storages are served under, as <media-url><storage>/<key>. Private files need a signed link.',
  },
  mediaSigningKeys: {
    flag: 'media-signing-keys',
    env: 'SHIPSHAPE_MEDIA_SIGNING_KEYS',
    kind: 'list',
    default: '',
    shownDefault: 'none: a random key is generated once into <media-root>/.signing-key',
    secret: true,
    description:
      'Comma-separated keys (32+ characters each) signing links to local private files; the first signs, all verify, so put a new key first to rotate. Set it in production: the generated key is per machine. Prefer the environment to the flag, which other users can see in ps.',
  },
  mediaDriver: {
    flag: 'media-driver',
    env: 'SHIPSHAPE_MEDIA_DRIVER',
    kind: 'string',
    default: 'local',
    description:
      'Where the public and private storages keep files: local (the media root, served by shipshape) or s3 (an S3-compatible bucket; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the AWS SDK chain).',
  },
  mediaS3Bucket: {
    flag: 'media-s3-bucket',
    env: 'SHIPSHAPE_MEDIA_S3_BUCKET',
    kind: 'string',
    default: undefined,
    shownDefault: 'none (required with --media-driver s3)',
    description: 'The bucket; storages keep their files under <storage>/ in it.',
  },
  mediaS3Region: {
    flag: 'media-s3-region',
    env: 'SHIPSHAPE_MEDIA_S3_REGION',
    kind: 'string',
    default: 'us-east-1',
    description: "The bucket's region (most S3-compatible servers accept us-east-1).",
  },
  mediaS3Endpoint: {
    flag: 'media-s3-endpoint',
    env: 'SHIPSHAPE_MEDIA_S3_ENDPOINT',
    kind: 'string',
    default: undefined,
    shownDefault: "AWS's endpoint for the region",
    description:
      'An S3-compatible server (R2, MinIO, …), reached path-style. Presigned links are signed for this host, so a custom domain here works only if it passes requests to S3 unchanged.',
  },
  mediaPublicUrl: {
    flag: 'media-public-url',
    env: 'SHIPSHAPE_MEDIA_PUBLIC_URL',
    kind: 'string',
    default: undefined,
    shownDefault: "none: the bucket's own URL",
    description:
      'S3 only: the base URL of a CDN or custom domain in front of the bucket, for public files. Never used for private files, which always get presigned S3 links.',
  },
  pidfile: {
    flag: 'pidfile',
    env: 'SHIPSHAPE_PIDFILE',
    kind: 'string',
    default: '.shipshape/serve.pid',
    description:
      'Where the primary writes its process id, for `shipshape reload`; relative to the working directory.',
  },
} as const satisfies Record<string, Field>

export type FieldName = keyof typeof fields

export interface ServeOptions {
  app: string
  kind: AppKind | 'auto'
  host: string
  port: number
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
  trustedProxies: string[]
  accessLog: boolean
  logLevel: string
  livezPath: string
  readyzPath: string
  pidfile: string
  allowedHosts: string[]
  httpsRedirect: 'auto' | 'on' | 'off'
  hstsMaxAgeSeconds: number
  hstsIncludeSubdomains: boolean
  hstsPreload: boolean
  csp: 'enforce' | 'report-only' | 'off'
  cspDirectives: string
  /** '' when reports are off. */
  cspReportPath: string
  crossOriginResourcePolicy: 'same-origin' | 'same-site' | 'cross-origin'
  crossSiteProtection: boolean
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

const kinds = ['auto', 'node', 'express', 'connect', 'koa', 'fastify', 'fetch']
const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']
const oneOf =
  <T extends string>(...values: T[]) =>
  (value: string): T | undefined =>
    values.includes(value as T) ? (value as T) : undefined

/**
 * Resolves the options from flags and environment. Every problem is collected and reported at
 * once, naming the flag or variable it came from, before anything starts.
 */
export function resolveServeOptions(
  app: string | undefined,
  flags: Partial<Record<FieldName, string>>,
  env: NodeJS.ProcessEnv = process.env,
): ServeOptions {
  const problems: string[] = []
  const raw = (name: FieldName): { value: string | undefined; source: string } => {
    const field: Field = fields[name]
    if (flags[name] !== undefined) return { value: flags[name], source: `--${field.flag}` }
    if (env[field.env] !== undefined && env[field.env] !== '')
      return { value: env[field.env], source: field.env }
    return { value: field.default, source: `the default of --${field.flag}` }
  }
  const read = <T>(name: FieldName, parse: (value: string) => T | undefined, expected: string): T => {
    const { value, source } = raw(name)
    const parsed = value === undefined ? undefined : parse(value)
    if (parsed === undefined) problems.push(`${source}: expected ${expected}, got ${JSON.stringify(value)}`)
    return parsed as T
  }
  const duration = (name: FieldName) => read(name, parseDuration, 'a duration such as 500ms, 5s or 2m')
  const bytes = (name: FieldName) => read(name, parseBytes, 'a size such as 512KB, 10MB or 1GiB')
  const count = (name: FieldName) => read(name, parseCount, 'a whole number of 0 or more')

  const entry = app ?? env.SHIPSHAPE_APP
  if (entry === undefined || entry === '') {
    problems.push(
      'no app given: pass the path of your app module, as in `shipshape serve app.js`, or set SHIPSHAPE_APP',
    )
  }
  const kind = read('kind', (value) => (kinds.includes(value) ? value : undefined), kinds.join(', '))
  const { host, port } = resolveBind(flags.bind, env, problems)
  const workers =
    raw('workers').value === undefined
      ? availableParallelism()
      : read('workers', (value) => positive(parseCount(value)), 'a whole number of 1 or more')
  const options: ServeOptions = {
    app: entry ?? '',
    kind: kind as ServeOptions['kind'],
    host,
    port,
    workers,
    timeoutMs: duration('timeout'),
    gracefulTimeoutMs: duration('gracefulTimeout'),
    keepAliveMs: duration('keepAlive'),
    headersTimeoutMs: duration('headersTimeout'),
    bodyTimeoutMs: duration('bodyTimeout'),
    maxHeaderBytes: bytes('maxHeaderSize'),
    maxBodyBytes: bytes('maxBodySize') || Number.POSITIVE_INFINITY,
    maxRequests: count('maxRequests'),
    maxRequestsJitter: count('maxRequestsJitter'),
    trustedProxies: read('trustedProxies', parseList, 'a comma-separated list'),
    accessLog: read('accessLog', parseBoolean, 'true or false (also yes/no, on/off, 1/0)'),
    logLevel: read('logLevel', (value) => (levels.includes(value) ? value : undefined), levels.join(', ')),
    livezPath: read('livez', parsePath, 'a path starting with /'),
    readyzPath: read('readyz', parsePath, 'a path starting with /'),
    pidfile: raw('pidfile').value ?? '',
    allowedHosts: read('allowedHosts', parseList, 'a comma-separated list of host names'),
    httpsRedirect: read('httpsRedirect', oneOf('auto', 'on', 'off'), 'auto, on or off'),
    hstsMaxAgeSeconds: Math.floor(duration('hstsMaxAge') / 1000),
    hstsIncludeSubdomains: read('hstsIncludeSubdomains', parseBoolean, 'true or false'),
    hstsPreload: read('hstsPreload', parseBoolean, 'true or false'),
    csp: read('csp', oneOf('enforce', 'report-only', 'off'), 'enforce, report-only or off'),
    cspDirectives: raw('cspDirectives').value ?? '',
    cspReportPath: read(
      'cspReportPath',
      (value) => (value === 'off' ? '' : parsePath(value)),
      'a path starting with / or off',
    ),
    crossOriginResourcePolicy: read(
      'crossOriginResourcePolicy',
      oneOf('same-origin', 'same-site', 'cross-origin'),
      'same-origin, same-site or cross-origin',
    ),
    crossSiteProtection: read('crossSiteProtection', parseBoolean, 'true or false'),
    tlsCertFile: raw('tlsCert').value,
    tlsKeyFile: raw('tlsKey').value,
    staticRoot: resolve(raw('staticRoot').value || fields.staticRoot.default),
    staticUrl: read('staticUrl', parseStaticUrl, 'a path such as /static/, or an absolute https:// URL'),
    staticMaxAgeMs: duration('staticMaxAge'),
    staticAllowOrigin: raw('staticAllowOrigin').value || undefined,
    media: mediaSettings(raw, problems),
  }
  const staticRoot = raw('staticRoot')
  if (!staticRoot.source.startsWith('the default') && !existsSync(options.staticRoot)) {
    problems.push(
      `${staticRoot.source}: the static files directory ${options.staticRoot} does not exist (run \`shipshape collectstatic\` first)`,
    )
  }
  if (problems.length === 0) {
    try {
      checkSecurityOptions(securitySettings(options))
    } catch (error) {
      problems.push((error as Error).message.replace(/^An option has a value shipshape cannot use: /, ''))
    }
  }
  if ((options.tlsCertFile === undefined) !== (options.tlsKeyFile === undefined)) {
    problems.push('--tls-cert and --tls-key go together: give both to serve HTTPS directly, or neither')
  }
  for (const [name, file] of [
    ['--tls-cert', options.tlsCertFile],
    ['--tls-key', options.tlsKeyFile],
  ] as const) {
    if (file !== undefined && !existsSync(file)) problems.push(`${name}: no file at ${JSON.stringify(file)}`)
  }
  if (options.bodyTimeoutMs > 0 && options.headersTimeoutMs > options.bodyTimeoutMs) {
    problems.push(
      `--headers-timeout (${options.headersTimeoutMs} ms) must not be longer than --body-timeout (${options.bodyTimeoutMs} ms)`,
    )
  }
  if (problems.length > 0) {
    throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', `\n  - ${problems.join('\n  - ')}`)
  }
  return options
}

/** The media options as storage settings; the storage module checks them, naming the options. */
function mediaSettings(
  raw: (name: FieldName) => { value: string | undefined; source: string },
  problems: string[],
): StorageSettings {
  const value = (name: FieldName) => raw(name).value || undefined
  const driver = value('mediaDriver')
  const bucket = value('mediaS3Bucket')
  const publicUrl = value('mediaPublicUrl')
  if (driver !== 'local' && driver !== 's3') {
    problems.push(`${raw('mediaDriver').source}: expected local or s3, got ${JSON.stringify(driver)}`)
  }
  const settings: StorageSettings = {
    root: resolve(value('mediaRoot') ?? fields.mediaRoot.default),
    urlPrefix: value('mediaUrl'),
    signingKeys: parseList(raw('mediaSigningKeys').value ?? ''),
    driver: driver === 's3' ? 's3' : 'local',
    ...(driver === 's3'
      ? {
          s3: {
            bucket: bucket ?? '',
            region: value('mediaS3Region'),
            ...(value('mediaS3Endpoint') ? { endpoint: value('mediaS3Endpoint') } : {}),
          },
          storages: {
            public: { visibility: 'public', ...(publicUrl ? { publicUrl } : {}) },
            private: { visibility: 'private' },
          },
        }
      : {}),
  }
  if (publicUrl && driver !== 's3')
    problems.push(`${raw('mediaPublicUrl').source}: applies to --media-driver s3 only`)
  const options: Record<string, string> = {
    urlPrefix: '--media-url',
    signing: '--media-signing-keys',
    's3.bucket': '--media-s3-bucket',
  }
  for (const problem of new Set(storageProblems(settings))) {
    const option = Object.entries(options).find(([word]) => problem.includes(word))?.[1]
    problems.push(option ? `${option}: ${problem}` : problem)
  }
  return settings
}

/** The security middleware's settings, picked from the serve options. */
export function securitySettings(options: ServeOptions): SecurityOptions {
  return {
    allowedHosts: options.allowedHosts,
    httpsRedirect: options.httpsRedirect,
    hstsMaxAgeSeconds: options.hstsMaxAgeSeconds,
    hstsIncludeSubdomains: options.hstsIncludeSubdomains,
    hstsPreload: options.hstsPreload,
    csp: options.csp,
    cspDirectives: options.cspDirectives,
    cspReportPath: options.cspReportPath,
    crossOriginResourcePolicy: options.crossOriginResourcePolicy,
    crossSiteProtection: options.crossSiteProtection,
  }
}

/** --bind wins; then SHIPSHAPE_BIND; then PORT (with HOST, default 0.0.0.0), as platforms set them. */
function resolveBind(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  problems: string[],
): { host: string; port: number } {
  let source = '--bind'
  let value = flag
  if (value === undefined && env.SHIPSHAPE_BIND) {
    source = 'SHIPSHAPE_BIND'
    value = env.SHIPSHAPE_BIND
  }
  if (value === undefined && env.PORT) {
    source = 'PORT'
    value = `${env.HOST || '0.0.0.0'}:${env.PORT}`
  }
  value ??= fields.bind.default
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value)
  const port = Number(match?.[3])
  if (!match || port > 65535) {
    problems.push(
      `${source}: expected host:port (such as 127.0.0.1:8000, 0.0.0.0:80 or [::]:8000), got ${JSON.stringify(value)}`,
    )
    return { host: '', port: 0 }
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port }
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const byteUnits: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
}

/** `500ms`, `5s`, `2m`, `1h`, `365d`, or `0`; a bare number is seconds, as in gunicorn's --timeout. */
export function parseDuration(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value)
  if (!match) return undefined
  return Math.round(Number(match[1]) * (durationUnits[(match[2] ?? 's').toLowerCase()] as number))
}

export function parseBytes(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(value)
  if (!match) return undefined
  return Math.floor(Number(match[1]) * (byteUnits[(match[2] ?? 'b').toLowerCase()] as number))
}

function parseCount(value: string): number | undefined {
  return /^\s*\d+\s*$/.test(value) ? Number(value) : undefined
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined
}

function parseBoolean(value: string): boolean | undefined {
  const lower = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(lower)) return true
  if (['false', '0', 'no', 'off'].includes(lower)) return false
  return undefined
}

function parseList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
}

function parseStaticUrl(value: string): string | undefined {
  if (/^https?:\/\/[^/\s]+\/\S*$/.test(value)) return value.endsWith('/') ? value : `${value}/`
  const path = parsePath(value)
  return path === undefined ? undefined : path.endsWith('/') ? path : `${path}/`
}

function parsePath(value: string): string | undefined {
  return value.startsWith('/') && !/\s/.test(value) ? value : undefined
}

/** The options table as `--help` text: each flag with its variable and default. */
export function describeOptions(): string {
  return Object.values(fields as Record<string, Field>)
    .map(
      (field) =>
        `  --${field.flag} <${field.kind === 'boolean' ? 'bool' : field.kind}>\n      ${field.description}\n      env ${field.env}; default ${field.shownDefault ?? field.default}`,
    )
    .join('\n')
}
