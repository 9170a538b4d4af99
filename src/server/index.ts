/**
 * shipshape/server: the supervisor behind `shipshape serve`. A primary process owns the socket
 * and never runs app code; workers run the pipeline and the app. See docs/server.md.
 */
export {
  configFiles,
  describeFlag,
  describeOptions,
  loadShipshapeSettings,
  loadShipshapeSettingsFor,
  resolveServeOptions,
  type ServeOptions,
  type ShipshapeLoadOptions,
  type ShipshapeSettings,
  securityGroup,
  serverGroup,
  settingForFlag,
  shipshapeConfig,
  staticGroup,
} from './_options.js'
export { serve, signalPrimary } from './_primary.js'
