/**
 * Cookies with the safe attributes by default. A cookie set without them is readable by any
 * injected script (no HttpOnly), travels over plain HTTP (no Secure), rides along on cross-site
 * requests (no SameSite), and can be overwritten from a sibling subdomain (no `__Host-` prefix).
 */
import type { IncomingMessage } from 'node:http'
import { parse, serialize } from 'cookie'
import { ShipshapeError } from '../errors/index.js'
import { getContext } from '../http/index.js'

export interface CookieOptions {
  /** Sent over HTTPS only. Default: true (browsers also accept Secure cookies from http://localhost). */
  secure?: boolean
  /** Hidden from JavaScript, so an XSS cannot steal it. Default: true. */
  httpOnly?: boolean
  /**
   * Default: `Lax`: sent on top-level navigations from other sites (links work, you stay signed
   * in) but not on their forms, images or fetches. `Strict` also drops it on incoming links;
   * `None` sends it everywhere and requires Secure.
   */
  sameSite?: 'Lax' | 'Strict' | 'None'
  /** Default: `/`. */
  path?: string
  /** Default: none, a host-only cookie. Setting one shares the cookie with every subdomain. */
  domain?: string
  /** Lifetime in seconds. Default: none, a session cookie gone when the browser closes. */
  maxAge?: number
  /**
   * Default: true: the name gets the `__Host-` prefix whenever the cookie is Secure, has Path=/
   * and no Domain, so browsers refuse the same name from a subdomain or from plain HTTP.
   * Read it back with readCookie() (which adds the same prefix).
   */
  hostPrefix?: boolean
}

/** The name the browser stores: `__Host-name` when the prefix applies. */
export function cookieName(name: string, options: CookieOptions = {}): string {
  const prefixed =
    options.hostPrefix !== false &&
    options.secure !== false &&
    (options.path ?? '/') === '/' &&
    options.domain === undefined
  return prefixed ? `__Host-${name}` : name
}

/**
 * One `Set-Cookie` header value, written by jshttp's `cookie` (which refuses a name, path or
 * domain that would break the header). The value is percent-encoded, so any string is safe to store.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  const secure = options.secure !== false
  const sameSite = options.sameSite ?? 'Lax'
  if (sameSite === 'None' && !secure)
    throw new ShipshapeError('SHIPSHAPE_E_ARGUMENT', 'a SameSite=None cookie must be Secure')
  const path = options.path ?? '/'
  // A path the browser would ignore (it then scopes the cookie to the current directory).
  if (!path.startsWith('/'))
    throw new ShipshapeError(
      'SHIPSHAPE_E_ARGUMENT',
      `a cookie path starts with /, got ${JSON.stringify(path)}`,
    )
  const seconds = options.maxAge === undefined ? undefined : Math.floor(options.maxAge)
  try {
    return serialize(cookieName(name, options), value, {
      path,
      domain: options.domain,
      maxAge: seconds,
      // Expires as well as Max-Age, for the old browsers that know only Expires.
      expires:
        seconds === undefined || !Number.isFinite(seconds)
          ? undefined
          : new Date(Date.now() + seconds * 1000),
      secure,
      httpOnly: options.httpOnly !== false,
      sameSite: sameSite.toLowerCase() as 'lax' | 'strict' | 'none',
    })
  } catch (error) {
    // The library refuses a name, path or domain that would break the header, with a TypeError.
    if (!(error instanceof TypeError)) throw error
    throw new ShipshapeError('SHIPSHAPE_E_ARGUMENT', `serializeCookie(): ${error.message}`, { cause: error })
  }
}

/** Adds a cookie to the current request's response, keeping cookies already set. */
export function setCookie(name: string, value: string, options: CookieOptions = {}): void {
  const ctx = getContext()
  if (ctx === undefined) throw new ShipshapeError('SHIPSHAPE_E_OUTSIDE_REQUEST', 'setCookie()')
  appendSetCookie(ctx.res, serializeCookie(name, value, options))
}

/** Expires the cookie now (same name, path and domain as it was set with). */
export function clearCookie(name: string, options: CookieOptions = {}): void {
  setCookie(name, '', { ...options, maxAge: 0 })
}

/** The cookie's value from the current request (decoded), looked up under its prefixed name. */
export function readCookie(name: string, options: CookieOptions = {}): string | undefined {
  const req = getContext()?.req
  return req === undefined ? undefined : cookieFrom(req, cookieName(name, options))
}

/** A cookie's decoded value from a request's Cookie header; undefined when absent or undecodable. */
export function cookieFrom(req: IncomingMessage, fullName: string): string | undefined {
  const header = req.headers.cookie
  if (header === undefined) return undefined
  return parse(header, { decode: decodeOrUndefined })[fullName]
}

function decodeOrUndefined(value: string): string | undefined {
  try {
    return decodeURIComponent(value)
  } catch {
    return undefined
  }
}

export function appendSetCookie(
  res: { getHeader(name: string): unknown; setHeader(name: string, value: string[]): unknown },
  cookie: string,
): void {
  const existing = res.getHeader('set-cookie')
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)]
  res.setHeader('Set-Cookie', [...list, cookie])
}
