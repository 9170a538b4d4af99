/**
 * shipshape/server: the supervisor behind `shipshape serve`. A primary process owns the socket
 * and never runs app code; workers run the pipeline and the app. See docs/server.md.
 */

export {
  loadServeOptions,
  loadSettingsOnly,
  resolveShipshapeSettings,
  type ServeOptions,
  type ShipshapeSettings,
  settingForFlag,
  shipshapeConfig,
} from './_composed.js'
export { reloadAndWait } from './_control.js'
export { CounterTable } from './_counters.js'
export { serve } from './_serve.js'
export { defaultMiddleware } from './_stack.js'
