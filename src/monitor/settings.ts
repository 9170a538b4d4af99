/**
 * The monitor settings group of `shipshape serve` and `shipshape monitor`, and the options it
 * becomes. Apart from shipshape/monitor so that workers never load zod.
 */
export { checksOf } from './_checks.js'
export { isMonitoring } from './_enabled.js'
export { monitorOptions, monitorSettings } from './_settings.js'
