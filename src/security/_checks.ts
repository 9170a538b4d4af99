/**
 * The catalogue behind `shipshape check --deploy`: what Django's deploy checks cover, and what a
 * shipshape deployment needs besides. Each check has an id (to silence it), a severity, a title,
 * a fix, and reads settings the way `shipshape serve` will: the serve options table for server
 * and security settings, the documented variables for the capabilities that own theirs.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { join, relative, resolve, sep } from 'node:path'
import { isShipshapeError } from '../errors/index.js'
import { manifestName, readManifest } from '../static/index.js'
import type { StaticServeOptions } from '../static/settings.js'
import type { MediaServeOptions } from '../storage/settings.js'
import type { ServerOptions } from '../types.js'
import { lockfileFindings, mask, trackedSecretFindings } from './_check-files.js'
import { isLoopbackName, loopbackHosts } from './_hosts.js'
import { parseCsp } from './_observatory-csp.js'
import type { SiteScan } from './_scan.js'
import type { SecurityServeOptions } from './_settings.js'

/** The options `shipshape serve` would run with, from each settings group's own type (none from server/). */
type ServeOptions = ServerOptions & SecurityServeOptions & StaticServeOptions & MediaServeOptions

export type Severity = 'error' | 'warning' | 'info'
export const severities: readonly Severity[] = ['error', 'warning', 'info']

/** What the checks read. Built once by `shipshape check`; tests build their own. */
export interface CheckContext {
  /** The project directory: lockfile, tracked files, static root and media are looked up from here. */
  cwd: string
  env: NodeJS.ProcessEnv
  /** The options `shipshape serve` would run with; undefined when they do not resolve. */
  serve: ServeOptions | undefined
  /** Why they do not resolve. */
  serveProblem: string | undefined
  /** The live site, when `--url` was given: `shipshape scan`'s report, and answers to extra requests. */
  site: LiveSite | undefined
  cpus: number
}

export interface LiveSite {
  scan: SiteScan
  /** Status of GET on a path of the site (redirects not followed); undefined when the request failed. */
  statusOf(path: string): Promise<number | undefined>
}

/** Why a check did not run: it needs --url, or a setting it reads is not set. */
export class Skip {
  readonly reason: string
  constructor(reason: string) {
    this.reason = reason
  }
}

export interface DeployCheck {
  id: string
  severity: Severity
  title: string
  fix: string
  /** Runs on `shipshape check` too, not only with --deploy. */
  always?: boolean
  /** The capability whose public settings this check will read once it has landed. */
  waitsOn?: string
  /** Problems found, as sentences; none means the check passed. */
  run(context: CheckContext): string[] | Skip | Promise<string[] | Skip>
}

/** The defaults of allowed hosts, as written there or bracketed as a Host header has them. */
const loopbackNames = new Set<string>([...loopbackHosts, '[::1]'])
const sixMonthsSeconds = 15_552_000

/** True for this machine: loopback addresses, localhost names, and Unix sockets (no host). */
export function isLocalHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (name === '' || name.startsWith('/')) return true
  return isLoopbackName(isIP(name) === 6 ? `[${name}]` : name)
}

/** A connection URL from a variable, or a finding explaining why it does not parse (never echoing it). */
function readUrl(env: NodeJS.ProcessEnv, name: string): URL | string | undefined {
  const value = env[name]
  if (value === undefined || value === '') return undefined
  try {
    return new URL(value)
  } catch {
    return `${name} is not a URL (${mask(value)}), so the connection will fail at start-up`
  }
}

/** `*_FILE` variables point to a file holding the value, as Docker and Kubernetes secrets do. */
function readSecret(env: NodeJS.ProcessEnv, name: string, cwd: string): string | undefined {
  const file = env[`${name}_FILE`]
  if (file) {
    try {
      return readFileSync(resolve(cwd, file), 'utf8').trim()
    } catch {
      return undefined
    }
  }
  return env[name] || undefined
}

/** Secret values that are examples, not secrets. */
const placeholderSecret =
  /change.?me|insecure|example|placeholder|secret|password|default|dummy|x{6,}|^(.)\1+$/i
/** Variables holding keys that sign or encrypt: sessions, tokens, signed media URLs. */
export const secretKeyVariables = ['SECRET_KEY', 'SESSION_SECRET', 'SHIPSHAPE_SECRET_KEY']
export const mediaSigningKeysVariable = 'SHIPSHAPE_MEDIA_SIGNING_KEYS'
export const silencedVariable = 'SHIPSHAPE_SILENCED_CHECKS'
export const errorDsnVariables = ['SHIPSHAPE_ERROR_DSN', 'SENTRY_DSN']
export const adminPathsVariable = 'SHIPSHAPE_ADMIN_PATHS'
const defaultAdminPaths = ['/admin', '/admin/', '/_shipshape/console', '/console']

function secretProblems(name: string, value: string, exampleValues: Set<string>): string[] {
  const problems: string[] = []
  if (value.length < 32)
    problems.push(`${name} is ${value.length} characters long; use at least 32 random ones`)
  else if (new Set(value).size < 8)
    problems.push(`${name} uses only ${new Set(value).size} distinct characters: it is guessable`)
  if (placeholderSecret.test(value))
    problems.push(`${name} looks like a placeholder (${mask(value)}), not a random key`)
  if (exampleValues.has(value))
    problems.push(`${name} is the value from the example env file, which everyone can read`)
  return problems
}

/** Values assigned in the committed example env files (.env.example and the like). */
function exampleEnvValues(cwd: string): Set<string> {
  const values = new Set<string>()
  for (const name of ['.env.example', '.env.sample', '.env.template']) {
    const file = join(cwd, name)
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
      const match = /^\s*(?:export\s+)?[A-Za-z_][\w]*\s*=\s*['"]?([^'"#\s]+)/.exec(line)
      if (match?.[1]) values.add(match[1])
    }
  }
  return values
}

function needsServe(context: CheckContext): ServeOptions | Skip {
  return context.serve ?? new Skip('the serve options do not resolve (see server-options)')
}

function within(child: string, parent: string): boolean {
  const path = relative(parent, child)
  return path === '' || (!path.startsWith('..') && !path.startsWith(sep) && path !== '..')
}

export const deployChecks: readonly DeployCheck[] = [
  {
    id: 'server-options',
    severity: 'error',
    always: true,
    title: 'The options `shipshape serve` reads resolve',
    fix: 'Correct each option named; `shipshape serve --help` lists every option, its variable and default.',
    run: (context) => (context.serveProblem ? [context.serveProblem] : []),
  },
  {
    id: 'debug-mode',
    severity: 'error',
    title: 'NODE_ENV is production',
    fix: 'Unset NODE_ENV (shipshape serve sets production) or set NODE_ENV=production. Development mode shows stack traces to visitors and disables caches in Express and most frameworks.',
    run: ({ env }) =>
      env.NODE_ENV !== undefined && env.NODE_ENV !== 'production'
        ? [`NODE_ENV is ${JSON.stringify(env.NODE_ENV)}`]
        : [],
  },
  {
    id: 'debug-logging',
    severity: 'warning',
    title: 'No debug logging',
    fix: 'Unset DEBUG and set LOG_LEVEL to info or above: debug output can carry request bodies, tokens and SQL.',
    run: ({ env, serve }) => {
      const problems: string[] = []
      if (env.DEBUG) problems.push(`DEBUG is set (${JSON.stringify(env.DEBUG.slice(0, 40))})`)
      if (serve && (serve.logLevel === 'debug' || serve.logLevel === 'trace'))
        problems.push(`LOG_LEVEL is ${serve.logLevel}`)
      return problems
    },
  },
  {
    id: 'secret-key',
    severity: 'error',
    title: 'Secret keys are long, random and not the example',
    fix: "Generate one with `node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"` and pass it as a secret file (NAME_FILE) or variable; never reuse the value from .env.example.",
    waitsOn: 'config (secret settings the app declares)',
    run: ({ env, cwd, serve }) => {
      const examples = exampleEnvValues(cwd)
      const problems: string[] = []
      for (const name of secretKeyVariables) {
        const value = readSecret(env, name, cwd)
        if (value !== undefined) problems.push(...secretProblems(name, value, examples))
      }
      for (const [index, key] of (serve?.media.signingKeys ?? []).entries())
        problems.push(...secretProblems(`${mediaSigningKeysVariable} key ${index + 1}`, key.trim(), examples))
      return problems
    },
  },
  {
    id: 'https-redirect',
    severity: 'warning',
    title: 'Plain HTTP is redirected to HTTPS',
    fix: 'Set SHIPSHAPE_HTTPS_REDIRECT to auto (the default) or on; behind a proxy, list it in SHIPSHAPE_TRUSTED_PROXIES so its X-Forwarded-Proto is believed (unix for a proxy on the socket of SHIPSHAPE_BIND=unix:PATH).',
    run: async (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      const problems: string[] = []
      if (serve.httpsRedirect === 'off') problems.push('SHIPSHAPE_HTTPS_REDIRECT is off')
      // Only a proxy can be on the other end of the socket, and it cannot be believed unless listed.
      if (serve.socketPath && !serve.trustedProxies.includes('unix'))
        problems.push(
          'SHIPSHAPE_BIND is a Unix socket but SHIPSHAPE_TRUSTED_PROXIES does not list unix: the proxy’s X-Forwarded-Proto is not believed, so HTTPS requests look like plain HTTP and are redirected to themselves',
        )
      const live = context.site?.scan.tests.redirection
      if (live && !live.pass) problems.push(`the live site: ${live.description} (${live.result})`)
      return problems
    },
  },
  {
    id: 'hsts',
    severity: 'warning',
    title: 'Strict-Transport-Security for at least six months',
    fix: 'Leave SHIPSHAPE_HSTS_MAX_AGE at its default (365d). Roll out with a short max-age first only if some subdomain still needs plain HTTP.',
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      const problems: string[] = []
      if (serve.hstsMaxAgeSeconds === 0) problems.push('SHIPSHAPE_HSTS_MAX_AGE is 0: no HSTS is sent')
      else if (serve.hstsMaxAgeSeconds < sixMonthsSeconds)
        problems.push(`SHIPSHAPE_HSTS_MAX_AGE is ${serve.hstsMaxAgeSeconds} s, under six months`)
      const live = context.site?.scan.tests['strict-transport-security']
      if (live && !live.pass) problems.push(`the live site: ${live.description} (${live.result})`)
      return problems
    },
  },
  {
    id: 'hsts-subdomains',
    severity: 'info',
    title: 'HSTS covers subdomains',
    fix: 'Set SHIPSHAPE_HSTS_INCLUDE_SUBDOMAINS=true (the default) once every subdomain serves HTTPS.',
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      return serve.hstsMaxAgeSeconds > 0 && !serve.hstsIncludeSubdomains
        ? [
            'SHIPSHAPE_HSTS_INCLUDE_SUBDOMAINS is false: a subdomain can be reached over plain HTTP and set cookies for the site',
          ]
        : []
    },
  },
  {
    id: 'hsts-preload',
    severity: 'info',
    title: 'HSTS preload',
    fix: 'When the whole domain is HTTPS-only for good, set SHIPSHAPE_HSTS_PRELOAD=true and submit it at hstspreload.org: browsers then never try plain HTTP, not even the first time.',
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      return serve.hstsMaxAgeSeconds > 0 && !serve.hstsPreload ? ['SHIPSHAPE_HSTS_PRELOAD is false'] : []
    },
  },
  {
    id: 'allowed-hosts',
    severity: 'error',
    title: 'Allowed hosts name the site',
    fix: 'Set SHIPSHAPE_ALLOWED_HOSTS to the domains the site answers to (example.com, .example.com for subdomains); never *.',
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      if (serve.allowedHosts.includes('*'))
        return [
          'SHIPSHAPE_ALLOWED_HOSTS allows any host (*): a forged Host header poisons password-reset links and caches',
        ]
      if (serve.allowedHosts.every((host) => loopbackNames.has(host.toLowerCase())))
        return [
          'SHIPSHAPE_ALLOWED_HOSTS lists only loopback names: every request to the real domain gets 400',
        ]
      return []
    },
  },
  {
    id: 'secure-cookies',
    severity: 'warning',
    title: 'Cookies are Secure, session cookies HttpOnly, with SameSite',
    fix: "Set cookies with shipshape's setCookie() (Secure, HttpOnly, SameSite=Lax and the __Host- prefix by default), or set those flags yourself.",
    run: (context) => {
      const live = context.site?.scan.tests.cookies
      if (live === undefined)
        return new Skip(
          "needs --url: cookies set with shipshape's setCookie() are Secure, but cookies the app sets itself are seen only on the live site",
        )
      return live.result === 'cookies-not-found' || live.scoreModifier >= 0
        ? []
        : [`the live site: ${live.description} (${live.result})`]
    },
  },
  {
    id: 'framing',
    severity: 'warning',
    title: 'Other sites cannot frame the pages (clickjacking)',
    fix: "Keep the CSP frame-ancestors 'none' default (with X-Frame-Options: DENY), or name the origins allowed to frame in SHIPSHAPE_CSP_DIRECTIVES.",
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      const problems: string[] = []
      const frameAncestors = directivesOf(serve.cspDirectives).get('frame-ancestors')
      if (frameAncestors && [...frameAncestors].some((source) => ['*', 'http:', 'https:'].includes(source)))
        problems.push(
          `SHIPSHAPE_CSP_DIRECTIVES lets any site frame the pages (frame-ancestors ${[...frameAncestors].join(' ')})`,
        )
      const live = context.site?.scan.tests['x-frame-options']
      if (live && !live.pass) problems.push(`the live site: ${live.description} (${live.result})`)
      return problems
    },
  },
  {
    id: 'content-type-nosniff',
    severity: 'warning',
    title: 'X-Content-Type-Options: nosniff',
    fix: 'shipshape sends nosniff on every response; if the live site lacks it, a proxy or the app removes it.',
    run: (context) => {
      const live = context.site?.scan.tests['x-content-type-options']
      if (live === undefined)
        return new Skip('needs --url: shipshape always sends nosniff, so only a live response can lack it')
      return live.pass ? [] : [`the live site: ${live.description} (${live.result})`]
    },
  },
  {
    id: 'csp',
    severity: 'warning',
    title: 'A Content-Security-Policy is enforced, without unsafe sources',
    fix: "Keep SHIPSHAPE_CSP=enforce and give inline scripts the request's nonce (cspNonce()) instead of allowing 'unsafe-inline'.",
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      const problems: string[] = []
      if (serve.csp === 'off') problems.push('SHIPSHAPE_CSP is off: no Content-Security-Policy is sent')
      if (serve.csp === 'report-only')
        problems.push('SHIPSHAPE_CSP is report-only: violations are reported, nothing is blocked')
      const directives = directivesOf(serve.cspDirectives)
      for (const directive of ['default-src', 'script-src', 'object-src', 'style-src']) {
        const unsafe = [...(directives.get(directive) ?? [])].filter((source) =>
          ["'unsafe-inline'", "'unsafe-eval'", 'data:', '*', 'http:', 'https:'].includes(source),
        )
        if (unsafe.length > 0)
          problems.push(`SHIPSHAPE_CSP_DIRECTIVES allows ${unsafe.join(' ')} in ${directive}`)
      }
      const live = context.site?.scan.tests['content-security-policy']
      if (live && !live.pass) problems.push(`the live site: ${live.description} (${live.result})`)
      return problems
    },
  },
  {
    id: 'request-timeout',
    severity: 'warning',
    title: 'Requests time out, and reloads wait for them',
    fix: 'Set SHIPSHAPE_TIMEOUT to what your slowest page needs (about 5s suits most pages, 30s is the default), and SHIPSHAPE_GRACEFUL_TIMEOUT to at least that.',
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      const problems: string[] = []
      if (serve.timeoutMs === 0)
        problems.push(
          'SHIPSHAPE_TIMEOUT is 0: a stuck request holds its worker forever and no blocked worker is replaced',
        )
      else if (serve.timeoutMs > 120_000)
        problems.push(
          `SHIPSHAPE_TIMEOUT is ${serve.timeoutMs / 1000} s: slow clients and stuck requests pile up for that long`,
        )
      if (serve.timeoutMs > 0 && serve.gracefulTimeoutMs < serve.timeoutMs)
        problems.push(
          `SHIPSHAPE_GRACEFUL_TIMEOUT (${serve.gracefulTimeoutMs / 1000} s) is shorter than SHIPSHAPE_TIMEOUT (${serve.timeoutMs / 1000} s): a reload can kill requests that would have finished`,
        )
      return problems
    },
  },
  {
    id: 'worker-count',
    severity: 'warning',
    title: 'Worker count fits the machine',
    fix: 'Leave SHIPSHAPE_WORKERS unset (one per CPU) unless the app waits on I/O so much that more help; measure before going past twice the CPUs.',
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      if (serve.workers > context.cpus * 2)
        return [
          `SHIPSHAPE_WORKERS is ${serve.workers} on ${context.cpus} CPUs: the workers fight for CPU and each holds a copy of the app in memory`,
        ]
      return []
    },
  },
  {
    id: 'static-manifest',
    severity: 'error',
    title: 'Static files are collected, with their manifest',
    fix: 'Run `shipshape collectstatic` in the build (before `shipshape serve`), with the same SHIPSHAPE_STATIC_ROOT.',
    run: (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      if (!existsSync(serve.staticRoot))
        return new Skip(
          `no static root at ${relative(context.cwd, serve.staticRoot) || '.'}: the app serves no static files`,
        )
      // The reader the static middleware uses, so the check passes exactly what serve accepts.
      const manifest = relative(context.cwd, join(serve.staticRoot, manifestName))
      try {
        if (readManifest(serve.staticRoot) === undefined)
          return [
            `${manifest} is missing: staticUrl() cannot give hashed names, so browsers cache stale files`,
          ]
      } catch (error) {
        return [`${manifest} is not a manifest collectstatic wrote (${(error as Error).message})`]
      }
      return []
    },
  },
  {
    id: 'private-storage',
    severity: 'error',
    title: 'Private media is not publicly readable',
    fix: 'Keep the media root (SHIPSHAPE_MEDIA_ROOT) outside the static root, readable only by the app user (chmod o-rwx); on S3, block public access to the bucket.',
    run: async (context) => {
      const serve = needsServe(context)
      if (serve instanceof Skip) return serve
      const { cwd } = context
      const media = serve.media
      const root = resolve(cwd, media.root ?? 'media')
      const definitions = media.storages ?? {
        public: { visibility: 'public' },
        private: { visibility: 'private' },
      }
      const problems: string[] = []
      for (const [name, definition] of Object.entries(definitions)) {
        if (definition.visibility !== 'private') continue
        if ((definition.driver ?? media.driver ?? 'local') === 'local') {
          const directory = resolve(cwd, definition.directory ?? join(root, name))
          const shown = relative(cwd, directory) || '.'
          if (within(directory, serve.staticRoot))
            problems.push(
              `private storage ${name} (${shown}) is inside the static root, which is served to anyone`,
            )
          for (const [other, publicDefinition] of Object.entries(definitions)) {
            if (
              publicDefinition.visibility !== 'public' ||
              (publicDefinition.driver ?? media.driver ?? 'local') !== 'local'
            )
              continue
            const publicDirectory = resolve(cwd, publicDefinition.directory ?? join(root, other))
            if (within(directory, publicDirectory))
              problems.push(
                `private storage ${name} (${shown}) is inside public storage ${other}, which is served to anyone`,
              )
          }
          const mode = existsSync(directory) ? statSync(directory).mode : 0
          if ((mode & 0o007) !== 0)
            problems.push(
              `${shown} is accessible to every user of the machine (mode ${(mode & 0o777).toString(8)})`,
            )
        } else if (media.s3?.bucket) {
          problems.push(
            ...(await anonymousListing(media.s3.bucket, media.s3.endpoint, definition.prefix ?? `${name}/`)),
          )
        }
      }
      return problems
    },
  },
  {
    id: 'database-password',
    severity: 'error',
    title: 'A remote database needs a password',
    fix: 'Put the password in DATABASE_URL (postgres://user:password@host/db), preferably from a secret file (DATABASE_URL_FILE).',
    run: ({ env }) => {
      const url = readUrl(env, 'DATABASE_URL')
      if (url === undefined) return []
      if (typeof url === 'string') return [url]
      if (isLocalHost(url.hostname) || hostFromQuery(url) !== undefined) return []
      return url.password === '' ? [`DATABASE_URL reaches ${url.hostname} without a password`] : []
    },
  },
  {
    id: 'database-tls',
    severity: 'warning',
    title: 'A remote database is reached over TLS',
    fix: 'Add sslmode=verify-full (or at least require) to DATABASE_URL: without it, passwords and data cross the network in clear.',
    run: ({ env }) => {
      const url = readUrl(env, 'DATABASE_URL')
      if (url === undefined || typeof url === 'string') return []
      if (isLocalHost(url.hostname)) return []
      const sslmode = url.searchParams.get('sslmode')
      const ssl = url.searchParams.get('ssl')
      if (sslmode && ['require', 'verify-ca', 'verify-full'].includes(sslmode)) return []
      if (ssl === 'true' || ssl === '1') return []
      return [
        `DATABASE_URL reaches ${url.hostname} ${sslmode ? `with sslmode=${sslmode}, which allows plain text` : 'without sslmode'}`,
      ]
    },
  },
  {
    id: 'redis-auth',
    severity: 'error',
    title: 'A remote Redis needs a password',
    fix: 'Require a password (requirepass or an ACL user) and put it in REDIS_URL (redis://:password@host:6379).',
    run: ({ env }) => {
      const url = readUrl(env, 'REDIS_URL')
      if (url === undefined) return []
      if (typeof url === 'string') return [url]
      if (isLocalHost(url.hostname)) return []
      return url.password === ''
        ? [
            `REDIS_URL reaches ${url.hostname} without a password: anyone on the network can read and write it`,
          ]
        : []
    },
  },
  {
    id: 'redis-tls',
    severity: 'warning',
    title: 'A remote Redis is reached over TLS',
    fix: 'Use a rediss:// URL (TLS), as managed Redis services offer.',
    run: ({ env }) => {
      const url = readUrl(env, 'REDIS_URL')
      if (url === undefined || typeof url === 'string') return []
      return !isLocalHost(url.hostname) && url.protocol === 'redis:'
        ? [`REDIS_URL reaches ${url.hostname} over plain redis://`]
        : []
    },
  },
  {
    id: 'lockfile',
    severity: 'error',
    always: true,
    title: 'The npm lockfile pins every package, fetched over https from the registry',
    fix: 'Commit package-lock.json; delete it and node_modules and run `npm install` against your registry to refresh entries without integrity or from elsewhere.',
    run: ({ cwd, env }) => lockfileFindings(cwd, env),
  },
  {
    id: 'tracked-secrets',
    severity: 'error',
    title: 'No secrets in files git tracks',
    fix: 'Remove the secret from the file, rotate it (it stays in git history), and load it from the environment or a secret file. Mark a deliberate test value with the comment "shipshape: allow-secret".',
    run: ({ cwd }) => trackedSecretFindings(cwd) ?? new Skip('not a git work tree'),
  },
  {
    id: 'admin-protected',
    severity: 'warning',
    title: 'Admin pages are not open to the public',
    waitsOn: 'auth (its admin path and protection settings)',
    fix: 'Put admin pages behind authentication or an IP allow-list; list your admin paths in SHIPSHAPE_ADMIN_PATHS so this check probes them.',
    run: async (context) => {
      if (context.site === undefined) return new Skip('needs --url: admin pages are probed on the live site')
      const paths = (context.env[adminPathsVariable] || defaultAdminPaths.join(','))
        .split(',')
        .map((path) => path.trim())
        .filter((path) => path.startsWith('/'))
      const open: string[] = []
      for (const path of paths) {
        if ((await context.site.statusOf(path)) === 200) open.push(path)
      }
      return open.map((path) => `${path} answers 200 to a visitor with no credentials`)
    },
  },
  {
    id: 'error-reporting',
    severity: 'warning',
    title: 'Errors are reported somewhere people look',
    waitsOn: 'observe (error tracking settings)',
    fix: 'Set SHIPSHAPE_ERROR_DSN (or SENTRY_DSN) to a Sentry-compatible DSN over https.',
    run: ({ env }) => {
      const name = errorDsnVariables.find((variable) => env[variable])
      if (name === undefined)
        return [`neither ${errorDsnVariables.join(' nor ')} is set: errors in production go unnoticed`]
      const url = readUrl(env, name)
      if (typeof url === 'string') return [url]
      if (url === undefined) return []
      const problems: string[] = []
      if (!/^\/(?:.*\/)?\d+$/.test(url.pathname) || url.username === '')
        problems.push(`${name} is not a DSN (expected https://<key>@<host>/<project id>)`)
      if (url.protocol !== 'https:' && !isLocalHost(url.hostname))
        problems.push(
          `${name} sends error reports, with their request data, over plain ${url.protocol.slice(0, -1)}`,
        )
      return problems
    },
  },
]

/** An anonymous listing request: S3 answers 403 unless the bucket lets the whole internet list it. */
async function anonymousListing(
  bucket: string,
  endpoint: string | undefined,
  prefix: string,
): Promise<string[]> {
  const base = (endpoint || 'https://s3.amazonaws.com').replace(/\/$/, '')
  const listing = new URL(`${base}/${encodeURIComponent(bucket)}`)
  listing.searchParams.set('list-type', '2')
  listing.searchParams.set('prefix', prefix)
  try {
    const response = await fetch(listing, { redirect: 'manual', signal: AbortSignal.timeout(5000) })
    await response.body?.cancel()
    return response.status === 200
      ? [`anyone can list ${prefix} in bucket ${bucket} without credentials (${listing.origin})`]
      : []
  } catch {
    return [`could not reach ${listing.origin} to verify that bucket ${bucket} refuses anonymous listing`]
  }
}

function directivesOf(policy: string): Map<string, Set<string>> {
  if (policy.trim() === '') return new Map()
  try {
    return parseCsp([policy]).directives
  } catch {
    return new Map()
  }
}

/** `postgres:///db?host=/var/run/postgresql`: a Unix socket given in the query. */
function hostFromQuery(url: URL): string | undefined {
  const host = url.searchParams.get('host')
  return host?.startsWith('/') ? host : undefined
}

// --- Running and reporting ------------------------------------------------------------------

export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'silenced'

export interface CheckOutcome {
  id: string
  severity: Severity
  title: string
  status: CheckStatus
  findings: string[]
  fix: string
  /** Why it was skipped. */
  reason?: string
  waitsOn?: string
}

export interface DeployReport {
  /** True when no check failed at or above the fail level. */
  ready: boolean
  failLevel: Severity | 'never'
  counts: Record<Severity, number> & { passed: number; skipped: number; silenced: number }
  /** Silenced ids that name no check (probably a typo). */
  unknownSilenced: string[]
  checks: CheckOutcome[]
}

export interface RunOptions {
  deploy: boolean
  silenced: readonly string[]
  failLevel: Severity | 'never'
  checks?: readonly DeployCheck[]
}

/** Runs the checks; a check that throws fails with what it threw, rather than stopping the others. */
export async function runDeployChecks(context: CheckContext, options: RunOptions): Promise<DeployReport> {
  const catalogue = options.checks ?? deployChecks
  const silenced = new Set(options.silenced)
  const outcomes: CheckOutcome[] = []
  for (const check of catalogue) {
    if (!options.deploy && !check.always) continue
    const base = {
      id: check.id,
      severity: check.severity,
      title: check.title,
      fix: check.fix,
      waitsOn: check.waitsOn,
    }
    if (silenced.has(check.id)) {
      outcomes.push({ ...base, status: 'silenced', findings: [] })
      continue
    }
    let result: string[] | Skip
    try {
      result = await check.run(context)
    } catch (error) {
      result = [`the check itself failed: ${isShipshapeError(error) ? error.message : String(error)}`]
    }
    if (result instanceof Skip)
      outcomes.push({ ...base, status: 'skipped', findings: [], reason: result.reason })
    else outcomes.push({ ...base, status: result.length > 0 ? 'failed' : 'passed', findings: result })
  }
  const counts = { error: 0, warning: 0, info: 0, passed: 0, skipped: 0, silenced: 0 }
  for (const outcome of outcomes) {
    if (outcome.status === 'failed') counts[outcome.severity]++
    else counts[outcome.status]++
  }
  const failing =
    options.failLevel === 'never' ? [] : severities.slice(0, severities.indexOf(options.failLevel) + 1)
  return {
    ready: outcomes.every((outcome) => outcome.status !== 'failed' || !failing.includes(outcome.severity)),
    failLevel: options.failLevel,
    counts,
    unknownSilenced: [...silenced].filter((id) => !catalogue.some((check) => check.id === id)),
    checks: outcomes,
  }
}

export function defaultCpus(): number {
  return availableParallelism()
}
