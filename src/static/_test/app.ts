/** The app behind the static files middleware in tests: says who answered. */
import type { IncomingMessage, ServerResponse } from 'node:http'

export default function app(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(`app: ${req.url}`)
}
