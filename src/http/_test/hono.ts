import { Hono } from 'hono'
import { getContext } from 'shipshape'
import {
  aborted,
  appendToPolicy,
  bigWebStream,
  clientError,
  endlessWebStream,
  gatedWebStream,
  held,
  hello,
  thrown,
} from './_shared.js'

const app = new Hono()
// Hono answers errors itself and prints them to the console; rethrowing hands them to shipshape,
// which logs them with the request id and answers a generic 500.
app.onError((error) => {
  throw error
})
app.get('/', (c) => c.text(hello, 200, { 'X-App': 'hono' }))
app.post('/echo', async (c) =>
  c.body(await c.req.arrayBuffer(), 200, { 'Content-Type': c.req.header('content-type') ?? 'text/plain' }),
)
app.get('/created', (c) => {
  c.header('X-Custom', 'yes')
  c.header('Set-Cookie', 'a=1', { append: true })
  c.header('Set-Cookie', 'b=2', { append: true })
  return c.text('made\n', 201)
})
app.get('/stream', (c) =>
  c.body(gatedWebStream(String(c.req.header('x-request-id'))), 200, { 'Content-Type': 'text/plain' }),
)
app.get('/big', (c) => c.body(bigWebStream(), 200, { 'Content-Type': 'application/octet-stream' }))
app.get('/endless', (c) =>
  c.body(endlessWebStream(String(c.req.header('x-request-id'))), 200, {
    'Content-Type': 'application/octet-stream',
  }),
)
app.get('/append', (c) => {
  appendToPolicy()
  return c.text('appended\n')
})
app.get('/context', (c) => c.json({ id: getContext()?.id }))
app.get('/refuse', () => {
  throw clientError()
})
app.get('/throw', () => {
  throw new Error(thrown)
})
app.get('/hang', async (c) => {
  const id = String(c.req.header('x-request-id'))
  held.add(c.req.raw)
  c.req.raw.signal.addEventListener('abort', () => aborted.add(id))
  await new Promise(() => {})
  return c.text('never')
})

export default app
