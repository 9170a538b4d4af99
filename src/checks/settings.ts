/**
 * The deploy checklist's settings group (`checks.*`). Apart from shipshape/checks, as the other
 * groups are apart from their runtime, so that composing shipshape's settings loads no check.
 */
export { checksSettings } from './_settings.js'
