import Fastify from 'fastify'
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

const app = Fastify()
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
app.get('/', async (_request, reply) => {
  reply.type('text/plain').header('X-App', 'fastify')
  return hello
})
app.post('/echo', async (request, reply) => {
  reply.type(request.headers['content-type'] ?? 'text/plain')
  return request.body
})
app.get('/created', async (_request, reply) => {
  reply.code(201).header('X-Custom', 'yes').header('Set-Cookie', ['a=1', 'b=2'])
  return 'made\n'
})
app.get('/stream', async (request, reply) => {
  reply.type('text/plain')
  return reply.send(gatedStream(String(request.headers['x-request-id'])))
})
app.get('/big', async (_request, reply) => {
  reply.type('application/octet-stream')
  return reply.send(bigStream())
})
app.get('/endless', async (request, reply) => {
  reply.type('application/octet-stream')
  return reply.send(endlessStream(String(request.headers['x-request-id'])))
})
app.get('/append', async (_request, reply) => {
  appendToPolicy()
  reply.type('text/plain')
  return 'appended\n'
})
app.get('/context', async () => ({ id: getContext()?.id }))
app.get('/refuse', async () => {
  throw clientError()
})
app.get('/throw', async () => {
  throw new Error(thrown)
})
app.get('/hang', async (request) => {
  getContext()?.signal.addEventListener('abort', () => aborted.add(String(request.headers['x-request-id'])))
  await new Promise(() => {})
})

export default app
