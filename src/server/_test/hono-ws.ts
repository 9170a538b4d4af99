/** Hono with @hono/node-ws: its upgrade server exported as `server`, and a close() export. */
import { appendFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createNodeWebSocket } from '@hono/node-ws'
import { Hono } from 'hono'

const app = new Hono()
const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app })
app.get(
  '/ws',
  upgradeWebSocket(() => ({
    onMessage(event, ws) {
      ws.send(`echo: ${String(event.data)} from pid ${process.pid}`)
    },
  })),
)
app.get('/', (c) => c.text(`hono pid ${process.pid}\n`))

/** Never listens: shipshape emits the upgrades it has checked on it. */
export const server = createServer()
injectWebSocket(server)

export async function close(): Promise<void> {
  appendFileSync(process.env.FIXTURE_MARKER as string, `close() ${process.pid}\n`)
}

export default app
