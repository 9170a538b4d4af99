/** A node:http app with two equally slow routes: /slow/:id has a threshold of its own in the test, /other has the default. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url?.startsWith('/slow/') || req.url === '/other') await sleep(60)
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(`ok ${req.url}`)
}
