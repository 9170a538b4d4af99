/**
 * A response in two chunks, the second 1 ms after the first (a streamed page, an API that
 * flushes its headers early). Served by `shipshape serve`, or run directly as the anchor:
 * `node bench/apps/two-chunks.ts PORT [nagle]` listens with node:http itself, with Nagle's
 * algorithm left on when `nagle` is given (what connections handed to a worker had before).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

export default function twoChunks(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.write('first\n')
  setTimeout(() => res.end('second\n'), 1)
}

if (import.meta.main) {
  const [port, nagle] = process.argv.slice(2)
  createServer({ noDelay: nagle !== 'nagle' }, twoChunks).listen(Number(port), '127.0.0.1')
}
