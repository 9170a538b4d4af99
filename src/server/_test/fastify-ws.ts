/** Fastify with @fastify/websocket, and an onClose hook that leaves a marker file. */
import { appendFileSync } from 'node:fs'
import websocket from '@fastify/websocket'
import Fastify from 'fastify'

const app = Fastify()
await app.register(websocket)
app.register(async (scope) => {
  scope.get('/ws', { websocket: true }, (socket) => {
    socket.on('message', (data: Buffer) => socket.send(`echo: ${String(data)}`))
  })
  scope.get('/', async () => `fastify pid ${process.pid}\n`)
})
app.addHook('onClose', async () => {
  appendFileSync(process.env.FIXTURE_MARKER as string, `fastify onClose ${process.pid}\n`)
})

export default app
