/**
 * shipshape/static/collect: what `shipshape collectstatic` runs (hashed, precompressed assets and
 * a manifest). A build step, apart from shipshape/static so that apps and workers never load it.
 */
export { type CollectOptions, type CollectResult, collectStatic } from './_collect.js'
export { hashedName } from './_hashing.js'
