/**
 * shipshape/scan: `shipshape scan <url>`, the MDN HTTP Observatory's tests and grade, offline.
 * One file per test under tests/, as the Observatory's own analyzer is laid out. Apart from the
 * runtime (shipshape/security) so that apps and workers never load it. See docs/security.md.
 */
export { type CspDirectives, type ParsedCsp, parseCsp } from './_csp-parser.js'
export { gradeForScore, grades } from './_grader.js'
export type { InlineScripts } from './_hydration.js'
export { probeStatus, type ScanOptions, type SiteScan, scanSite, scanTargets } from './_retriever.js'
export { scoreTable } from './_score-table.js'
export {
  type Expectation,
  type Retrieval,
  type ScanReport,
  type TestName,
  type TestResult,
  testNames,
} from './types.js'
