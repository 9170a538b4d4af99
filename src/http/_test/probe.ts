import type { IncomingMessage, ServerResponse } from 'node:http'
import { getContext } from '../_context.js'
import { gate } from './_shared.js'

/** Answers what the pipeline made of the request; `/wait/<id>` holds the request until released. */
export default async function probe(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ctx = getContext()
  if (req.url?.startsWith('/wait/')) await gate(req.url.slice(6))
  if (req.url === '/late-write') {
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    res.write('partial\n')
    await new Promise(() => {})
  }
  if (req.url === '/read-body') {
    for await (const _chunk of req) {
    }
  }
  if (req.url === '/write-after-timeout') {
    await new Promise((resolve) => ctx?.signal.addEventListener('abort', resolve))
    res.writeHead(200).end('too late')
    return
  }
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.end(
    JSON.stringify({
      id: ctx?.id,
      clientIp: ctx?.clientIp,
      protocol: ctx?.protocol,
      state: ctx?.state,
      path: ctx?.path,
    }),
  )
}
