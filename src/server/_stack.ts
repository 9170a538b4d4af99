/**
 * The middleware every worker runs in front of the app, composed once at start-up. Order:
 * security (headers, hosts, HTTPS) → static files → media. Each capability adds its factory here.
 */
import type { Middleware } from '../types.js'
import type { ServeOptions } from './_options.js'

export async function defaultMiddleware(_options: ServeOptions): Promise<Middleware[]> {
  return []
}
