/** The app behind the static files middleware in tests: says who answered; `/link?name=` answers staticUrl(name). */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { staticUrl } from '../index.js'

export default function app(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
  if (req.url?.startsWith('/link?')) {
    res.end(staticUrl(new URLSearchParams(req.url.slice(6)).get('name') ?? ''))
    return
  }
  res.end(`app: ${req.url}`)
}
