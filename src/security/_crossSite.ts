/**
 * Cross-site request forgery protection, the way browsers now make cheap: a state-changing
 * request that carries cookies must come from this site. Modern browsers say where a request
 * comes from in Sec-Fetch-Site; older ones in Origin. For clients that send neither (browsers
 * from before 2020, which also omit Origin on same-site form posts), a token is required: the
 * double-submit of a `__Host-` cookie and a form field or header (see csrfToken()).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { ShipshapeError } from '../errors/index.js'
import { getContext } from '../http/index.js'
import type { RequestContext } from '../types.js'
import { appendSetCookie, type CookieOptions, cookieFrom, cookieName, serializeCookie } from './_cookies.js'
import { parseHost } from './_hosts.js'

/** Methods that must not change state (RFC 9110), so they are never checked. */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** The form field and header that carry the fallback token. */
const tokenField = 'csrf_token'
const tokenHeader = 'x-csrf-token'
const tokenCookie = 'shipshape-csrf'
const tokenPattern = /^[A-Za-z0-9_-]{43}$/

/** A form posted by an old browser is read for its token only up to this size (the token may be anywhere in it). */
const formPeekLimit = 64 * 1024

/**
 * `allow`, `refuse`, or `token` when the request carries no evidence of its origin and must
 * prove itself with the token. Requests without cookies are allowed: they carry no ambient
 * authority a forger could borrow (webhooks, API clients with bearer tokens).
 */
export function crossSiteVerdict(ctx: RequestContext): 'allow' | 'refuse' | 'token' {
  const { headers } = ctx.req
  if (safeMethods.has(ctx.method) || headers.cookie === undefined) return 'allow'
  const site = headers['sec-fetch-site']
  // `none`: the user started the request themselves (typed URL, bookmark).
  if (site === 'same-origin' || site === 'none') return 'allow'
  // `same-site` is refused too: a sibling subdomain may be run by someone else.
  if (site === 'same-site' || site === 'cross-site') return 'refuse'
  const origin = headers.origin
  if (origin !== undefined) return sameOrigin(origin, headers.host) ? 'allow' : 'refuse'
  return 'token'
}

/** True when an Origin header (`https://host[:port]`) names the Host the request was sent to. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  const match = /^https?:\/\/([^/]+)$/i.exec(origin)
  const from = parseHost(match?.[1])
  const to = parseHost(host)
  return from !== undefined && to !== undefined && from.name === to.name && from.port === to.port
}

/** The token cookie is Secure (and so `__Host-`) on HTTPS; on plain-HTTP development it cannot be. */
function tokenCookieOptions(ctx: RequestContext): CookieOptions {
  return { secure: ctx.protocol === 'https', httpOnly: true, sameSite: 'Lax' }
}

/**
 * The request's anti-forgery token, set in a cookie on first use. Only browsers that send
 * neither Sec-Fetch-Site nor Origin need it: put csrfField() in every form that posts, and send
 * it as the `X-CSRF-Token` header from scripts.
 */
export function csrfToken(): string {
  const ctx = getContext()
  if (ctx === undefined) throw new ShipshapeError('SHIPSHAPE_E_OUTSIDE_REQUEST', 'csrfToken()')
  const known = ctx.state.csrfToken as string | undefined
  if (known !== undefined) return known
  const options = tokenCookieOptions(ctx)
  let token = cookieFrom(ctx.req, cookieName(tokenCookie, options))
  if (token === undefined || !tokenPattern.test(token)) {
    token = randomBytes(32).toString('base64url')
    if (!ctx.res.headersSent) appendSetCookie(ctx.res, serializeCookie(tokenCookie, token, options))
  }
  ctx.state.csrfToken = token
  return token
}

/** A hidden form field carrying csrfToken(), as HTML (the token is URL-safe base64: nothing to escape). */
export function csrfField(): string {
  return `<input type="hidden" name="${tokenField}" value="${csrfToken()}">`
}

/** For a request with no origin evidence: the token in the header or form must match the cookie. */
export async function tokenMatches(ctx: RequestContext): Promise<boolean> {
  const { req } = ctx
  const expected = cookieFrom(req, cookieName(tokenCookie, tokenCookieOptions(ctx)))
  if (expected === undefined || !tokenPattern.test(expected)) return false
  let given = req.headers[tokenHeader]
  if (typeof given !== 'string' && isForm(req)) {
    const body = await peekBody(req, formPeekLimit)
    given =
      body === undefined
        ? undefined
        : (new URLSearchParams(body.toString('latin1')).get(tokenField) ?? undefined)
  }
  return (
    typeof given === 'string' &&
    given.length === expected.length &&
    timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  )
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')
}

/**
 * Reads the whole body and puts it back at the front of the stream, so the app's body parser
 * reads it as if nobody had. `req.complete` says the parser has seen the end of the body; the
 * end event has not fired yet, which is what lets the bytes be unshifted back.
 */
async function peekBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  let tooLarge = false
  for (;;) {
    for (let chunk: Buffer | null = req.read(); chunk !== null; chunk = req.read()) {
      chunks.push(chunk)
      size += chunk.length
    }
    if (size > limit) tooLarge = true
    if (tooLarge || req.complete || req.destroyed) break
    await new Promise<void>((resolve) => {
      const done = () => {
        req.off('readable', done)
        req.off('close', done)
        resolve()
      }
      req.on('readable', done)
      req.on('close', done)
    })
  }
  const body = Buffer.concat(chunks)
  if (body.length > 0 && !req.destroyed) req.unshift(body)
  return tooLarge ? undefined : body
}
