/**
 * The MDN HTTP Observatory's results (algorithm version 4): every result name a test can give,
 * with its score modifier and what it means. The names and modifiers are the Observatory's, so a
 * site gets the same score from both.
 */
/** Every result a test can give, with its score modifier and what it means. */
export const scoreTable = {
  'csp-implemented-with-no-unsafe-default-src-none': [10, "CSP with default-src 'none' and nothing unsafe"],
  'csp-implemented-with-no-unsafe': [5, "CSP without 'unsafe-inline' or 'unsafe-eval'"],
  'csp-implemented-with-unsafe-inline-in-style-src-only': [0, 'CSP allows unsafe sources in style-src only'],
  'csp-implemented-with-insecure-scheme-in-passive-content-only': [
    -10,
    'CSP lets an HTTPS site load images or media over HTTP',
  ],
  'csp-implemented-with-unsafe-eval': [-10, "CSP allows 'unsafe-eval'"],
  'csp-implemented-with-unsafe-inline': [
    -20,
    "CSP allows 'unsafe-inline', data: or overly broad sources in script-src or object-src, or leaves them unrestricted",
  ],
  'csp-implemented-with-insecure-scheme': [-20, 'CSP lets an HTTPS site load resources over HTTP'],
  'csp-implemented-but-duplicate-directives': [0, 'CSP repeats report-uri or report-to'],
  'csp-header-invalid': [-25, 'CSP cannot be parsed'],
  'csp-not-implemented': [-25, 'No Content-Security-Policy'],
  'csp-not-implemented-but-reporting-enabled': [-25, 'Only Content-Security-Policy-Report-Only is set'],
  'cookies-secure-with-httponly-sessions-and-samesite': [
    5,
    'All cookies Secure, session cookies HttpOnly, every cookie SameSite',
  ],
  'cookies-secure-with-httponly-sessions': [0, 'All cookies Secure and session cookies HttpOnly'],
  'cookies-not-found': [0, 'No cookies set'],
  'cookies-without-secure-flag-but-protected-by-hsts': [-5, 'Cookies without Secure, but HSTS protects them'],
  'cookies-session-without-secure-flag-but-protected-by-hsts': [
    -10,
    'Session cookie without Secure, but HSTS protects it',
  ],
  'cookies-without-secure-flag': [-20, 'Cookies without Secure, or set over HTTP'],
  'cookies-samesite-flag-invalid': [
    -20,
    'SameSite set to something other than Strict or Lax (or None with Secure)',
  ],
  'cookies-anticsrf-without-samesite-flag': [-20, 'Anti-CSRF token cookie without SameSite'],
  'cookies-session-without-httponly-flag': [-30, 'Session cookie without HttpOnly'],
  'cookies-session-without-secure-flag': [-40, 'Session cookie without Secure, or set over HTTP'],
  'cross-origin-resource-sharing-not-implemented': [0, 'Content not visible to other origins through CORS'],
  'cross-origin-resource-sharing-implemented-with-public-access': [
    0,
    'Public content visible through CORS (*)',
  ],
  'cross-origin-resource-sharing-implemented-with-restricted-access': [
    0,
    'CORS restricted to specific origins',
  ],
  'cross-origin-resource-sharing-implemented-with-universal-access': [
    -50,
    'CORS reflects any origin with credentials: open to cross-site request forgery',
  ],
  'redirection-all-redirects-preloaded': [0, 'Every host redirected to is HSTS-preloaded'],
  'redirection-to-https': [0, 'HTTP redirects to HTTPS on the same host first, and ends on HTTPS'],
  'redirection-not-needed-no-http': [0, 'Not reachable over HTTP, so no redirect is needed'],
  'redirection-off-host-from-http': [
    -5,
    'HTTP redirects to HTTPS on another host first, so HSTS is never set',
  ],
  'redirection-not-to-https-on-initial-redirection': [
    -10,
    'HTTP redirects to HTTP first, reaching HTTPS later',
  ],
  'redirection-not-to-https': [-20, 'HTTP redirects, but not to HTTPS'],
  'redirection-missing': [-20, 'HTTP does not redirect to HTTPS'],
  'redirection-invalid-cert': [-20, 'Invalid certificate chain during the redirects'],
  'referrer-policy-private': [
    5,
    'Referrer-Policy no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin',
  ],
  'referrer-policy-not-implemented': [
    0,
    'No Referrer-Policy (browsers default to strict-origin-when-cross-origin)',
  ],
  'referrer-policy-unsafe': [-5, 'Referrer-Policy leaks the full URL or the origin over HTTP'],
  'referrer-policy-header-invalid': [-5, 'Referrer-Policy not recognized'],
  'hsts-preloaded': [5, 'HSTS-preloaded'],
  'hsts-implemented-max-age-at-least-six-months': [0, 'HSTS max-age of at least six months'],
  'hsts-implemented-max-age-less-than-six-months': [-10, 'HSTS max-age under six months'],
  'hsts-not-implemented': [-20, 'No Strict-Transport-Security on HTTPS'],
  'hsts-header-invalid': [-20, 'Strict-Transport-Security not recognized'],
  'hsts-not-implemented-no-https': [-20, 'Not reachable over HTTPS, so no HSTS'],
  'hsts-invalid-cert': [-20, 'Invalid certificate chain, so HSTS does not apply'],
  'sri-implemented-and-all-scripts-loaded-securely': [5, 'SRI on scripts, all from the same origin'],
  'sri-implemented-and-external-scripts-loaded-securely': [
    5,
    'SRI on external scripts, all loaded over HTTPS',
  ],
  'sri-not-implemented-response-not-html': [0, 'Not HTML, so SRI does not apply'],
  'sri-not-implemented-but-no-scripts-loaded': [0, 'No scripts, so SRI is not needed'],
  'sri-not-implemented-but-all-scripts-loaded-from-secure-origin': [
    0,
    'No SRI, but all scripts are same-origin',
  ],
  'sri-not-implemented-but-external-scripts-loaded-securely': [-5, 'External scripts over HTTPS without SRI'],
  'sri-implemented-but-external-scripts-not-loaded-securely': [
    -20,
    'External scripts with SRI, but over HTTP or protocol-relative URLs',
  ],
  'sri-not-implemented-and-external-scripts-not-loaded-securely': [
    -50,
    'External scripts without SRI, over HTTP or protocol-relative URLs',
  ],
  'x-content-type-options-nosniff': [0, 'X-Content-Type-Options: nosniff'],
  'x-content-type-options-not-implemented': [-5, 'No X-Content-Type-Options'],
  'x-content-type-options-header-invalid': [-5, 'X-Content-Type-Options not recognized'],
  'x-frame-options-implemented-via-csp': [5, 'Framing controlled by CSP frame-ancestors'],
  'x-frame-options-sameorigin-or-deny': [0, 'X-Frame-Options SAMEORIGIN or DENY'],
  'x-frame-options-allow-from-origin': [0, 'X-Frame-Options ALLOW-FROM'],
  'x-frame-options-not-implemented': [-20, 'No X-Frame-Options or CSP frame-ancestors'],
  'x-frame-options-header-invalid': [-20, 'X-Frame-Options not recognized'],
  'corp-implemented-with-same-origin': [10, 'Cross-Origin-Resource-Policy same-origin'],
  'corp-implemented-with-same-site': [10, 'Cross-Origin-Resource-Policy same-site'],
  'corp-implemented-with-cross-origin': [0, 'Cross-Origin-Resource-Policy cross-origin'],
  'corp-not-implemented': [0, 'No Cross-Origin-Resource-Policy (browsers default to cross-origin)'],
  'corp-header-invalid': [-5, 'Cross-Origin-Resource-Policy not recognized'],
  'html-not-parseable': [-20, 'Claims to be HTML but cannot be parsed'],
} as const satisfies Record<string, readonly [number, string]>

export type Expectation = keyof typeof scoreTable
