/** An app with work outside any request (a timer), as a queue consumer or a scheduled job has. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { absoluteUrl } from 'shipshape/security'
import { storage } from 'shipshape/storage'

const queued: string[] = []
const stored: string[] = []
// Started at import: its callbacks run in no request's context.
setInterval(async () => {
  for (const key of queued.splice(0)) {
    const body = `written by a timer for ${absoluteUrl('/')}\n`
    stored.push((await storage('public').put(key, body)).key)
  }
}, 20)

/** `/?key=K` queues a write of K; `/stored` lists the keys written so far. */
export default function app(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://app')
  if (url.pathname === '/stored') return void res.end(JSON.stringify(stored))
  queued.push(url.searchParams.get('key') ?? 'unnamed.txt')
  res.end('queued\n')
}
