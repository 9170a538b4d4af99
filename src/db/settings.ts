/**
 * The database settings group of `shipshape serve` and the db commands, and the options it
 * becomes. Apart from shipshape/db so that apps and workers, which import the runtime, never
 * load zod and the declarations.
 */

export { apmOptions, apmSettings } from './_apm-settings.js'
export { databaseOptions, databaseSettings } from './_settings.js'
