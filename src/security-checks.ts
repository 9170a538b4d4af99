/**
 * shipshape/security/checks: kept as an alias of shipshape/checks (`shipshape check --deploy`)
 * and shipshape/scan (`shipshape scan`), where the deploy checklist and the Observatory grade
 * now live. New code imports those two directly. It sits at the root, not in security/, so that
 * security/ and checks/ do not import each other.
 */
export * from './checks/index.js'
export * from './scan/index.js'
