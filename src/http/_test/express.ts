import express from 'express'
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

const app = express()
app.get('/', (_req, res) => {
  res.type('text/plain').set('X-App', 'express').send(hello)
})
app.post('/echo', express.raw({ type: () => true, limit: '10mb' }), (req, res) => {
  res.type(req.get('content-type') ?? 'text/plain').send(req.body)
})
app.get('/created', (_req, res) => {
  res.status(201).set('X-Custom', 'yes').cookie('a', '1').cookie('b', '2').send('made\n')
})
app.get('/stream', (req, res) => {
  res.type('text/plain')
  gatedStream(String(req.get('x-request-id'))).pipe(res)
})
app.get('/big', (_req, res) => {
  res.type('application/octet-stream')
  bigStream().pipe(res)
})
app.get('/endless', (req, res) => {
  res.type('application/octet-stream')
  endlessStream(String(req.get('x-request-id'))).pipe(res)
})
app.get('/append', (_req, res) => {
  appendToPolicy()
  res.type('text/plain').send('appended\n')
})
app.get('/context', (_req, res) => {
  res.json({ id: getContext()?.id })
})
app.get('/refuse', () => {
  throw clientError()
})
app.get('/throw', async () => {
  throw new Error(thrown)
})
app.get('/hang', (req) => {
  getContext()?.signal.addEventListener('abort', () => aborted.add(String(req.get('x-request-id'))))
})

export default app
