/**
 * shipshape's deploy checklist (`shipshape check --deploy`). For now its settings group only;
 * the checks themselves are in shipshape/security/checks.
 */
export { type ChecksSettings, checksSettings } from './_settings.js'
