/**
 * shipshape/security: safe response headers, HTTPS and hosts at run time, and the checks behind
 * `shipshape check --deploy` and `shipshape scan`. See docs/security.md.
 */

// --- Checking: `shipshape scan` (the MDN HTTP Observatory's tests and scoring) ---
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
export { type ScanOptions, type SiteScan, scanSite, scanTargets } from './_scan.js'
