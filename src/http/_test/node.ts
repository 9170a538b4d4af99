import type { IncomingMessage, ServerResponse } from 'node:http'
import { getContext } from 'shipshape'
import {
  aborted,
  appendToPolicy,
  bigStream,
  clientError,
  endlessStream,
  gatedStream,
  hello,
  thrown,
} from './_shared.js'

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ctx = getContext()
  const id = String(req.headers['x-request-id'])
  switch (new URL(req.url ?? '/', 'http://app').pathname) {
    case '/':
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-App': 'node' }).end(hello)
      return
    case '/echo': {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      res
        .writeHead(200, { 'Content-Type': req.headers['content-type'] ?? 'text/plain' })
        .end(Buffer.concat(chunks))
      return
    }
    case '/created':
      res.writeHead(201, { 'X-Custom': 'yes', 'Set-Cookie': ['a=1', 'b=2'] }).end('made\n')
      return
    case '/stream':
      res.writeHead(200, { 'Content-Type': 'text/plain' })
      gatedStream(id).pipe(res)
      return
    case '/big':
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
      bigStream().pipe(res)
      return
    case '/endless':
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
      endlessStream(id).pipe(res)
      return
    case '/append':
      appendToPolicy()
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('appended\n')
      return
    case '/context':
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: ctx?.id }))
      return
    case '/refuse':
      throw clientError()
    case '/throw':
      throw new Error(thrown)
    case '/hang':
      ctx?.signal.addEventListener('abort', () => aborted.add(id))
      return
    default:
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n')
  }
}
