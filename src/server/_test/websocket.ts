/** A `ws` client for the WebSocket tests: the messages it got, and how it closed. */
import WebSocket from 'ws'

export interface Client {
  socket: WebSocket
  /** The next message not taken yet. */
  next(): Promise<string>
  closed: Promise<{ code: number; reason: string }>
}

/** Opens a WebSocket to `url` (http:// is turned into ws://); rejects with the server's answer if refused. */
export function openWebSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), options)
  const queue: string[] = []
  const waiting: ((message: string) => void)[] = []
  socket.on('message', (data) => {
    const message = String(data)
    const wake = waiting.shift()
    if (wake) wake(message)
    else queue.push(message)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  )
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_req, res) => {
      reject(new Error(`refused with ${res.statusCode}`))
      socket.terminate()
    })
    socket.once('error', reject)
    socket.once('open', () =>
      resolve({
        socket,
        closed,
        next: () => {
          const message = queue.shift()
          return message === undefined ? new Promise((wake) => waiting.push(wake)) : Promise.resolve(message)
        },
      }),
    )
  })
}
