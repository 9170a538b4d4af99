/**
 * shipshape/security/checks: kept as an alias of shipshape/checks (`shipshape check --deploy`)
 * and shipshape/scan (`shipshape scan`), where the deploy checklist and the Observatory grade
 * now live. New code imports those two directly.
 */
export * from '../checks/index.js'
export * from '../scan/index.js'
