/** Raw TCP clients, for requests an HTTP client refuses to send and for watching a connection. */
import { connect, type Socket } from 'node:net'

/**
 * Sends raw bytes (for requests an HTTP client refuses to send; several parts `pauseMs` apart;
 * a string is written one byte per character) and returns everything the server wrote before
 * closing the connection, or before `waitMs` if it keeps it open.
 */
export function raw(
  port: number,
  bytes: Buffer | string | string[],
  pauseMs = 0,
  waitMs = 5000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
    })
    const timer = setTimeout(() => socket.destroy(), waitMs)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(received)
    })
    socket.on('error', (error) => (received ? resolve(received) : reject(error)))
    socket.on('connect', async () => {
      for (const part of Array.isArray(bytes) ? bytes : [bytes]) {
        if (socket.destroyed) return
        socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part)
        if (pauseMs) await new Promise((wait) => setTimeout(wait, pauseMs))
      }
    })
  })
}

/** A raw TCP connection to the server: what it sent so far, and when it closed (performance.now()). */
export interface RawConnection {
  socket: Socket
  received: () => string
  closedAt: Promise<number>
  /** Resolves once `count` whole responses (status lines) have arrived. */
  responses(count: number): Promise<string>
}

export async function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let received = ''
  const wakers = new Set<() => void>()
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk
    for (const wake of wakers) wake()
  })
  socket.on('error', () => {}) // a reset shows as a close with less received
  const closedAt = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())))
  closedAt.then(() => {
    for (const wake of wakers) wake()
  })
  return {
    socket,
    received: () => received,
    closedAt,
    responses: (count) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if ((received.match(/^HTTP\/1\.1 /gm) ?? []).length >= count && received.includes('\r\n\r\n')) {
            wakers.delete(check)
            resolve(received)
          } else if (socket.destroyed) {
            wakers.delete(check)
            reject(new Error(`connection closed after: ${JSON.stringify(received)}`))
          }
        }
        wakers.add(check)
        check()
      }),
  }
}
