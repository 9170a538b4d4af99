/**
 * shipshape/security: the secure defaults every response gets, and the helpers an app uses to
 * work with them. See docs/security.md. The checks behind `shipshape check --deploy` are
 * shipshape/checks, and `shipshape scan` is shipshape/scan: an app never loads them (about 10 MB
 * a worker).
 */

// Runtime: headers, hosts, HTTPS redirect, cookies, cross-site request protection.
export {
  type CookieOptions,
  clearCookie,
  cookieName,
  readCookie,
  serializeCookie,
  setCookie,
} from './_cookies.js'
export { csrfField, csrfToken } from './_crossSite.js'
export { adjustSecurityHeaders, cspNonce, type HeaderChanges } from './_headers.js'
export { absoluteUrl, isAllowedHost, isLoopbackName, loopbackHosts } from './_hosts.js'
export {
  checkSecurityOptions,
  type SecurityOptions,
  securityDefaults,
  securityMiddleware,
} from './_middleware.js'
