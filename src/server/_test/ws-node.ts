/** A node:http server with `ws` on it, exported as the app: the way `ws` is used without shipshape. */
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

/** A line in the server's JSON log, so a test can wait for what the app saw. */
const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ level: 30, msg, pid: process.pid, ...fields })}\n`)

const server = createServer((_req, res) => res.end(`http pid ${process.pid}\n`))
const wss = new WebSocketServer({ server })
wss.on('connection', (socket) => {
  socket.send(`hello from pid ${process.pid}`)
  socket.on('message', (data) => socket.send(`echo: ${String(data)}`))
  socket.on('close', (code) => log('fixture: websocket closed', { code }))
})

export default server
