/**
 * shipshape/checks: the deploy checklist behind `shipshape check --deploy`, one file per subject
 * (types.ts states what a check is). Apart from the runtime (shipshape/security) so that apps and
 * workers never load it. See docs/deploy-checks.md.
 */
export { defaultCpus, deployChecks, runDeployChecks, silencedVariable } from './_registry.js'
export { isLocalHost } from './hosts.js'
export {
  type CheckContext,
  type CheckOutcome,
  type CheckSettings,
  type CheckStatus,
  type DeployCheck,
  type DeployReport,
  type LiveSite,
  type RunOptions,
  type Severity,
  Skip,
  type Subject,
  severities,
} from './types.js'
