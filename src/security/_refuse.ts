/** shipshape's own short answer to a request it will not pass on: status and message from the catalogue. */
import { catalogue, type ErrorCode } from '../errors/index.js'
import type { RequestContext } from '../types.js'

export function refuse(ctx: RequestContext, code: ErrorCode): void {
  const { status, message } = catalogue[code]
  const body = `${message} (${code}, request id ${ctx.id})\n`
  ctx.res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  })
  ctx.res.end(body)
}
