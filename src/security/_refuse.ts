/** shipshape's own short answer to a request it will not pass on: status and message from the catalogue. */
import { catalogue, type ErrorCode } from '../errors/index.js'
import { plainAnswer } from '../http/index.js'
import type { RequestContext } from '../types.js'

export function refuse(ctx: RequestContext, code: ErrorCode): void {
  const { status, message } = catalogue[code]
  plainAnswer(ctx.res, status, `${message} (${code}, request id ${ctx.id})\n`)
}
