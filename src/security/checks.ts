/**
 * shipshape/security/checks: the checks behind `shipshape check --deploy` (the deploy checklist)
 * and `shipshape scan` (the MDN HTTP Observatory's tests and scoring). See docs/deploy-checks.md.
 * Apart from the runtime (shipshape/security) so that apps and workers never load them.
 */

// `shipshape check --deploy`
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
// `shipshape scan`
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
