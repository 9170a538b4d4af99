/** The app the monitor's serve tests run: a page, and a page that fails (for the error budget). */
import type { IncomingMessage, ServerResponse } from 'node:http'

export default function app(req: IncomingMessage, res: ServerResponse): void {
  const failing = req.url === '/fail'
  res.writeHead(failing ? 500 : 200, { 'content-type': 'text/plain' }).end(failing ? 'failed' : 'hello')
}
