/**
 * shipshape/security: the secure defaults every response gets, and the helpers an app uses to
 * work with them, and the checks behind `shipshape check --deploy` and `shipshape scan`. See
 * docs/security.md.
 */

// Checking: `shipshape check --deploy` (the deploy checklist).
export {
  type CheckContext,
  type CheckOutcome,
  type DeployCheck,
  type DeployReport,
  defaultCpus,
  deployChecks,
  isLocalHost,
  type LiveSite,
  runDeployChecks,
  type Severity,
  Skip,
  severities,
  silencedVariable,
} from './_checks.js'
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
export { absoluteUrl, isAllowedHost } from './_hosts.js'
export {
  checkSecurityOptions,
  type SecurityOptions,
  securityDefaults,
  securityMiddleware,
} from './_middleware.js'
// Checking: `shipshape scan` (the MDN HTTP Observatory's tests and scoring).
export {
  type Expectation,
  gradeForScore,
  grades,
  type ScanReport,
  scoreTable,
  type TestName,
  type TestResult,
  testNames,
} from './_observatory.js'
export { probeStatus, type ScanOptions, type SiteScan, scanSite, scanTargets } from './_scan.js'
