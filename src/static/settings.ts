/**
 * The static files settings group of `shipshape serve` and `shipshape collectstatic`, and the
 * options it becomes. Apart from shipshape/static, as shipshape/static/collect is, so that apps
 * and workers, which import the runtime, never load zod and the declarations.
 */
export {
  missingStaticRoot,
  staticOptions,
  staticSettings,
} from './_settings.js'
