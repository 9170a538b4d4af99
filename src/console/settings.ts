/**
 * The console settings group of `shipshape serve` and the options it becomes. Apart from
 * shipshape/console so that workers never load zod and the declarations.
 */
export { consoleOptions, consoleSettings } from './_settings.js'
