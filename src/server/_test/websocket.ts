/** A `ws` client for the WebSocket tests: the messages it got, and how it closed. */
import { connect } from 'node:net'
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

/** A server's frame as a strict client reads it: opcode and payload (close frames: their code). */
export interface Frame {
  opcode: number
  text: string
  code?: number
}

/**
 * A client that keeps to RFC 6455 the way browsers do, at the byte level: it answers the
 * server's close frame with its own (masked) and records every frame the server sends, including
 * any after its close frame, which `ws` would hide. Resolves with all frames once the server
 * closes the connection. `ready` resolves after the server's first frame.
 */
export function strictClient(port: number, path: string): { ready: Promise<void>; frames: Promise<Frame[]> } {
  const socket = connect(port, '127.0.0.1')
  const frames: Frame[] = []
  let pending = Buffer.alloc(0)
  let upgraded = false
  let answeredClose = false
  let onFirst: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    onFirst = resolve
  })
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk])
    if (!upgraded) {
      const end = pending.indexOf('\r\n\r\n')
      if (end === -1) return
      upgraded = true
      pending = pending.subarray(end + 4)
    }
    // The server's frames here are short: unmasked, payloads under 126 bytes.
    while (pending.length >= 2 && pending.length >= 2 + ((pending[1] as number) & 0x7f)) {
      const opcode = (pending[0] as number) & 0x0f
      const payload = pending.subarray(2, 2 + ((pending[1] as number) & 0x7f))
      pending = pending.subarray(2 + payload.length)
      frames.push(
        opcode === 8
          ? { opcode, text: '', code: payload.readUInt16BE(0) }
          : { opcode, text: String(payload) },
      )
      onFirst()
      if (opcode === 8 && !answeredClose) {
        answeredClose = true
        const mask = Buffer.from([0x12, 0x34, 0x56, 0x78])
        socket.write(Buffer.from([0x88, 0x82, ...mask, 0x03 ^ 0x12, 0xe9 ^ 0x34]))
      }
    }
  })
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  )
  return { ready, frames: new Promise((resolve) => socket.once('close', () => resolve(frames))) }
}
