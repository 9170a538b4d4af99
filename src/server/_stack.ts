/**
 * The middleware every worker runs in front of the app, composed once at start-up. Order:
 * security (headers, hosts, HTTPS) → static files → media. Each capability adds its factory here.
 */
import type { Logger } from '../observe/index.js'
import { securityMiddleware } from '../security/index.js'
import type { Middleware } from '../types.js'
import { type ServeOptions, securitySettings } from './_options.js'

/** `logger` receives CSP violation reports and proxy warnings; default: a logger of its own, made on first use. */
export async function defaultMiddleware(options: ServeOptions, logger?: Logger): Promise<Middleware[]> {
  return [securityMiddleware(securitySettings(options), logger)]
}
