/**
 * shipshape/console: the ops console every `shipshape serve` mounts at /_shipshape (console.prefix)
 * behind sign-in with MFA: errors, endpoints, database, uptime and alerts, servers and the deploy
 * checklist, one server-rendered page each, usable with JavaScript off. Admins resolve, mute and
 * silence; viewers read. The default stack mounts it (consoleArea) and the primary samples its
 * instance for the Servers page (startSampler). See docs/console.md.
 */
export { consoleArea } from './_area.js'
export { startSampler } from './_sampler.js'
