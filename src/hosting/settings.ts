/**
 * The audit settings group, apart from shipshape/hosting's runtime so that only the commands
 * that need it load zod and the declarations.
 */
export { auditOptionsFor, auditOptionsOf, auditSettings } from './_settings.js'
