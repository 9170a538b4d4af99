/**
 * shipshape/hosting: what it takes to run the app somewhere. `shipshape audit` checks the
 * lockfile and the registry's advisories (docs/audit.md).
 */
export { type AuditOptions, type AuditReport, audit } from './_audit.js'
export { deployFileDrift } from './_drift.js'
export { initProject } from './_init.js'
export { severityOrder } from './_registry.js'
export { describeAudit, sarif } from './_report.js'
