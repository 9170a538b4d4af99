/**
 * Which Host values the site answers to. A Host header is whatever the client typed (or forged):
 * answering any value lets an attacker poison caches and password-reset links with their own
 * domain, so a Host outside the list gets a 400 before the app runs, and every absolute URL
 * shipshape builds uses an allowed host.
 */
import { isIP } from 'node:net'
import { ShipshapeError } from '../errors/index.js'
import { getContext, workerState } from '../http/index.js'

/**
 * Names a fresh checkout answers to, so `npm start` works on http://127.0.0.1:8000 and
 * http://localhost:8000; a deployment adds its own domain (and then only its domain is served).
 */
export const loopbackHosts = ['localhost', '127.0.0.1', '::1'] as const

/** A parsed Host header: lower-cased name (IPv6 in brackets) and the port if one was given. */
export interface ParsedHost {
  name: string
  port: string | undefined
}

/**
 * `name`, `name:port`, `[v6]` or `[v6]:port`, where a name is letters, digits, dots and hyphens.
 * Anything else (userinfo `a@b`, paths, spaces, control characters, `\`) is not a host.
 */
const hostPattern = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::(\d{1,5}))?$/

/** Parses a Host header value; undefined when it is not a plain host (and port). */
export function parseHost(value: string | undefined): ParsedHost | undefined {
  if (value === undefined || value.length > 260) return undefined
  let lower = value.toLowerCase()
  // A fully qualified `example.com.` is the same site as `example.com`.
  const dot = lower.lastIndexOf('.')
  if (dot > 0 && dot === lower.length - 1) lower = lower.slice(0, -1)
  const match = hostPattern.exec(lower)
  if (!match) return undefined
  const name = match[1] as string
  if (name.includes('..')) return undefined
  if (name.startsWith('[') && isIP(name.slice(1, -1)) !== 6) return undefined
  const port = match[2]
  if (port !== undefined && Number(port) > 65535) return undefined
  return { name, port }
}

/** True for names that only ever reach this machine: localhost (and its subdomains), 127.0.0.0/8 and ::1. */
export function isLoopbackName(name: string): boolean {
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '[::1]' ||
    (isIP(name) === 4 && name.startsWith('127.'))
  )
}

export interface HostRules {
  /** Whether `name` (as parseHost returns it) is allowed. */
  allows(name: string): boolean
  /** The first entry that names one host, used for absolute URLs built outside a request. */
  readonly primary: string | undefined
}

/**
 * Compiles `--allowed-hosts` entries: `example.com` (exactly), `.example.com` (the domain and
 * every subdomain, as in Django), `*` (any host: only behind a proxy that checks Host itself).
 * IPv6 addresses may be written with or without brackets. A bad entry stops start-up.
 */
export function hostRules(entries: readonly string[]): HostRules {
  const exact = new Set<string>()
  const suffixes: string[] = []
  let any = false
  let primary: string | undefined
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') {
      any = true
      continue
    }
    const bracketed = isIP(entry) === 6 ? `[${entry}]` : entry
    const domain = bracketed.startsWith('.') ? bracketed.slice(1) : bracketed
    const parsed = parseHost(domain)
    if (parsed === undefined || parsed.port !== undefined) {
      throw new ShipshapeError(
        'SHIPSHAPE_E_BAD_OPTION',
        `allowed host "${raw}" is not a host name, an IP address, a .domain (with its subdomains) or *`,
      )
    }
    exact.add(parsed.name)
    if (bracketed.startsWith('.')) suffixes.push(`.${parsed.name}`)
    else primary ??= parsed.name
  }
  return {
    primary,
    allows(name) {
      if (any || exact.has(name)) return true
      for (const suffix of suffixes) if (name.endsWith(suffix)) return true
      return false
    },
  }
}

declare module '../types.js' {
  interface WorkerState {
    /** The Host allow-list of the worker's security middleware. */
    readonly hosts?: HostRules
  }
}

/**
 * The rules in force: the worker's, inside a request that went through the security
 * middleware. Outside a request (a script, a timer in the app) there is no worker to ask, so
 * they come from SHIPSHAPE_ALLOWED_HOSTS as `serve` reads it (comma-separated), else the
 * loopback names `serve` allows by default.
 */
function rulesInForce(): HostRules {
  const own = workerState()?.hosts
  if (own !== undefined) return own
  const listed = process.env.SHIPSHAPE_ALLOWED_HOSTS
  return hostRules(listed ? listed.split(',') : loopbackHosts)
}

/** True when `host` (a Host header value, port allowed) is one the site answers to. */
export function isAllowedHost(host: string): boolean {
  const parsed = parseHost(host)
  return parsed !== undefined && rulesInForce().allows(parsed.name)
}

/**
 * An absolute URL for `path` on this site, for links in e-mails, redirects to other services,
 * and canonical links. Inside a request it uses the request's scheme and Host (already checked
 * against the allow-list); outside one, https and the first allowed host. It never uses a host
 * that is not allowed: that is how password-reset links get pointed at an attacker's domain.
 */
export function absoluteUrl(path: string): string {
  if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_ARGUMENT',
      `absoluteUrl() takes a path on this site starting with one "/", got ${JSON.stringify(path)}`,
    )
  }
  const rules = rulesInForce()
  const ctx = getContext()
  const parsed = parseHost(ctx?.req.headers.host)
  if (ctx !== undefined && parsed !== undefined && rules.allows(parsed.name)) {
    const port = parsed.port === undefined ? '' : `:${parsed.port}`
    return `${ctx.protocol}://${parsed.name}${port}${path}`
  }
  if (rules.primary === undefined) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      'absoluteUrl() needs a request or one named host in --allowed-hosts (a list of only .domains or * names none)',
    )
  }
  return `https://${rules.primary}${path}`
}
