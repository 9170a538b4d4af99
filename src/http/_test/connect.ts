import connect from 'connect'
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

const app = connect()
app.use((req, res, next) => {
  const id = String(req.headers['x-request-id'])
  const path = new URL(req.url ?? '/', 'http://app').pathname
  if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-App': 'connect' }).end(hello)
  } else if (path === '/echo') {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      res
        .writeHead(200, { 'Content-Type': req.headers['content-type'] ?? 'text/plain' })
        .end(Buffer.concat(chunks))
    })
  } else if (path === '/created') {
    res.writeHead(201, { 'X-Custom': 'yes', 'Set-Cookie': ['a=1', 'b=2'] }).end('made\n')
  } else if (path === '/stream') {
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    gatedStream(id).pipe(res)
  } else if (path === '/big') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
    bigStream().pipe(res)
  } else if (path === '/endless') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
    endlessStream(id).pipe(res)
  } else if (path === '/append') {
    appendToPolicy()
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('appended\n')
  } else if (path === '/context') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: getContext()?.id }))
  } else if (path === '/refuse') {
    next(clientError())
  } else if (path === '/throw') {
    next(new Error(thrown))
  } else if (path === '/hang') {
    getContext()?.signal.addEventListener('abort', () => aborted.add(id))
  } else {
    next()
  }
})

export default app
