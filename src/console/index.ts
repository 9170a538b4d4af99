/**
 * shipshape/console: the ops console every `shipshape serve` mounts at /_shipshape (console.prefix)
 * behind sign-in with MFA: errors, endpoints, database, uptime and alerts, servers and the deploy
 * checklist, one server-rendered page each, usable with JavaScript off. Admins resolve, mute and
 * silence; viewers read. See docs/console.md.
 */
export { consoleArea } from './_area.js'
export { type SamplerHost, startSampler, type WorkerSample } from './_sampler.js'
export type { ConsoleServeOptions } from './_settings.js'
export type { ConsoleHost } from './_view.js'
