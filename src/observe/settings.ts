/**
 * The observe settings group of `shipshape serve` (error tracking, notifications, metrics) and
 * the options it becomes. Apart from shipshape/observe so that workers never load zod.
 */
export { observeOptions, observeSettings } from './_settings.js'
