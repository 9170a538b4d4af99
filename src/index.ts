/** shipshape's root export is kept tiny: each capability has its own subpath (`shipshape/config`, …). */

export { catalogue, isShipshapeError, ShipshapeError } from './errors/index.js'
export { drainSignal, getContext } from './http/index.js'
export type { AppKind, Middleware, RequestContext } from './types.js'
