/**
 * The security middleware: the first thing every request meets after the pipeline's own steps.
 * In order: security headers (so even shipshape's own refusals carry them), the Host check,
 * the HTTPS redirect, the CSP report endpoint, cross-site request protection, then the app.
 * One middleware rather than five: each step is a few comparisons, and a separate middleware
 * would cost more in composition than the step itself.
 */
import { plainAnswer } from '../http/index.js'
import { createLogger, type Logger } from '../observe/index.js'
import type { Middleware, RequestContext } from '../types.js'
import { crossSiteVerdict, tokenMatches } from './_crossSite.js'
import { answerHeaders, applyHeaders, nonceState } from './_headers.js'
import { hostRules, isLoopbackName, loopbackHosts, parseHost } from './_hosts.js'
import { type HeaderOptions, headerPolicy } from './_policy.js'
import { refuse } from './_refuse.js'
import { cspReportEndpoint } from './_reports.js'

export interface SecurityOptions extends HeaderOptions {
  /** Host names the site answers to (`example.com`, `.example.com` with subdomains, `*`). Others get 400. */
  allowedHosts: string[]
  /**
   * Plain-HTTP requests get a 301 to https. `auto` redirects every host except loopback names
   * (localhost, 127.0.0.1, ::1), so local development works over HTTP and a real domain never does.
   */
  httpsRedirect: 'auto' | 'on' | 'off'
  /** Refuse state-changing requests with cookies that come from another site (403). */
  crossSiteProtection: boolean
}

/** Every default, documented with its reason in src/security/_settings.ts and docs/security.md. */
export const securityDefaults: SecurityOptions = {
  allowedHosts: [...loopbackHosts],
  httpsRedirect: 'auto',
  hstsMaxAgeSeconds: 31_536_000,
  hstsIncludeSubdomains: true,
  hstsPreload: false,
  csp: 'enforce',
  cspDirectives: '',
  cspReportPath: '/_shipshape/csp-report',
  crossOriginResourcePolicy: 'same-origin',
  crossSiteProtection: true,
}

interface HostVerdict {
  host: string | undefined
  name: string
  allowed: boolean
  redirect: boolean
}

/** Throws the first problem with the options (a bad host entry, a malformed directive): for checking at start-up. */
export function checkSecurityOptions(options: Partial<SecurityOptions>): void {
  const settings: SecurityOptions = { ...securityDefaults, ...options }
  hostRules(settings.allowedHosts)
  headerPolicy(settings)
}

export function securityMiddleware(options: Partial<SecurityOptions> = {}, logger?: Logger): Middleware {
  const settings: SecurityOptions = { ...securityDefaults, ...options }
  const hosts = hostRules(settings.allowedHosts)
  const headers = headerPolicy(settings)
  const log = () => {
    logger ??= createLogger()
    return logger
  }
  const reportPath =
    settings.csp !== 'off' && settings.cspReportPath !== '' ? settings.cspReportPath : undefined
  const reports = reportPath === undefined ? undefined : cspReportEndpoint(log)
  const redirects = (name: string) =>
    settings.httpsRedirect === 'on' || (settings.httpsRedirect === 'auto' && !isLoopbackName(name))
  let warnedAboutProxy = false

  // A site is mostly asked for under one Host: the verdict on the last one is kept.
  let last: HostVerdict = { host: undefined, name: '', allowed: false, redirect: false }
  const judge = (host: string | undefined): HostVerdict => {
    if (host === last.host && host !== undefined) return last
    const parsed = parseHost(host)
    const name = parsed?.name ?? ''
    const verdict = {
      host,
      name,
      allowed: parsed !== undefined && hosts.allows(name),
      redirect: redirects(name),
    }
    if (verdict.allowed) last = verdict
    return verdict
  }

  // The worker's state, not the process's: isAllowedHost() and absoluteUrl() read these rules
  // from the request, and shipshape's own answers carry these headers.
  const provides = { hosts, answerHeaders: answerHeaders(headers), requestState: nonceState }
  return Object.assign(
    function security(ctx: RequestContext, next: () => Promise<void>) {
      applyHeaders(ctx, headers)
      const host = judge(ctx.req.headers.host)
      if (!host.allowed) return refuse(ctx, 'SHIPSHAPE_E_HOST_NOT_ALLOWED')
      const target = ctx.req.url ?? ''
      // Origin-form only (`/path?query`): an absolute-form target (`http://other/`) or `*` is for proxies.
      if (target.charCodeAt(0) !== 47) return refuse(ctx, 'SHIPSHAPE_E_REQUEST_TARGET')
      if (host.redirect && ctx.protocol === 'http') {
        if (!warnedAboutProxy && ctx.req.headers['x-forwarded-proto'] !== undefined) {
          warnedAboutProxy = true
          log().warn(
            { peer: ctx.req.socket.remoteAddress },
            'X-Forwarded-Proto came from a peer that is not a trusted proxy, so it was ignored and the request redirected to https; behind a TLS-terminating proxy, set --trusted-proxies or every request loops',
          )
        }
        return redirectToHttps(ctx, host.name, target)
      }
      if (reports !== undefined && ctx.path === reportPath) return reports(ctx)
      if (settings.crossSiteProtection) {
        const verdict = crossSiteVerdict(ctx)
        if (verdict === 'refuse') return refuse(ctx, 'SHIPSHAPE_E_CROSS_SITE')
        if (verdict === 'token') return checkToken(ctx, next)
      }
      return next()
    },
    { provides },
  )
}

async function checkToken(ctx: RequestContext, next: () => Promise<void>): Promise<void> {
  if (await tokenMatches(ctx)) return next()
  refuse(ctx, 'SHIPSHAPE_E_CROSS_SITE')
}

/**
 * 301 to the same host and path over https, on the default port. The host is one the allow-list
 * accepted (a plain name, checked character by character), and the URL is always absolute, so
 * `//evil.example` or `/\evil.example` paths stay paths on this site. Bytes outside printable
 * ASCII in the path are percent-encoded, so nothing can end the header line.
 */
function redirectToHttps(ctx: RequestContext, name: string, target: string): void {
  const location = `https://${name}${target.replace(/[^\x21-\x7e]/g, percentEncode)}`
  plainAnswer(ctx.res, 301, 'Moved Permanently\n', { Location: location })
}

function percentEncode(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
}
