/**
 * shipshape/server: the supervisor behind `shipshape serve`. A primary process owns the socket
 * and never runs app code; workers run the pipeline and the app. See docs/server.md.
 */

export { reloadAndWait } from './_control.js'
export {
  describeOptions,
  loadShipshapeSettings,
  loadShipshapeSettingsFor,
  resolveServeOptions,
  type ServeOptions,
  settingForFlag,
  shipshapeConfig,
} from './_options.js'
export { serve } from './_serve.js'
