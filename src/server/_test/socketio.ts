/** Socket.IO on a node:http server exported as the app: polling goes through the pipeline, WebSockets through upgrades. */
import { createServer } from 'node:http'
import { Server } from 'socket.io'

const server = createServer((_req, res) => res.end('ok\n'))
const io = new Server(server)
io.on('connection', (socket) => {
  socket.on('echo', (text: string, ack: (reply: string) => void) =>
    ack(`echo: ${text} from pid ${process.pid}`),
  )
})

export default server
