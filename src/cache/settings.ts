/**
 * The cache settings group of `shipshape serve` and the options it becomes. Apart from
 * shipshape/cache so that apps and workers, which import the runtime, never load zod and the
 * declarations.
 */
export { cacheOptions, cacheSettings } from './_settings.js'
