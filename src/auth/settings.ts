/**
 * The auth settings group of `shipshape serve` and the options it becomes. Apart from
 * shipshape/auth so that apps and workers, which import the runtime, never load zod and the
 * declarations.
 */
export { type AuthServeOptions, authOptions, authSettings } from './_settings.js'
