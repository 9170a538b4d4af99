/**
 * Drives a node:http server inside this process, with no sockets and no kernel: the server's end
 * of an in-memory stream pair is handed to it as a connection, and the other end sends keep-alive
 * requests in batches and counts the answers. What it measures is the CPU the http stack, the
 * pipeline and the app spend per request, without wrk or loopback TCP in the figure; on a shared
 * machine this resolves a microsecond where req/s cannot. (Under `valgrind --tool=callgrind` the
 * same loop counts instructions, which do not depend on the machine's load at all.)
 */
import type { Server } from 'node:http'
import { duplexPair } from 'node:stream'

export interface Driver {
  /** Sends `count` requests, `batch` at a time, and resolves when every answer has arrived. */
  run(count: number): Promise<void>
}

const crlf2 = Buffer.from('\r\n\r\n')

/** A connection to `server` that sends `request` (a whole request head) over and over. */
export function connect(server: Server, request: string, batch = 16): Driver {
  const [client, side] = duplexPair()
  // What node:http reads of a net.Socket that an in-memory stream lacks.
  let written = 0
  const write = side._write.bind(side)
  side._write = (chunk, encoding, callback) => {
    written += chunk.length
    write(chunk, encoding, callback)
  }
  Object.defineProperty(side, 'bytesWritten', { get: () => written })
  Object.assign(side, { remoteAddress: '127.0.0.1', encrypted: false, setNoDelay() {}, setKeepAlive() {} })
  server.emit('connection', side)

  // Every answer to the same request has the same length (the request id and the date are of
  // fixed length): the first one is parsed, and later ones are counted by their bytes, so the
  // client's own work does not grow with the size of the headers being measured.
  let size = 0
  let pending: Buffer = Buffer.alloc(0)
  let bytes = 0
  let done: (() => void) | undefined
  client.on('data', (chunk: Buffer) => {
    if (size === 0) {
      pending = Buffer.concat([pending, chunk])
      const end = pending.indexOf(crlf2)
      if (end === -1) return
      const head = pending.subarray(0, end).toString('latin1')
      if (!head.startsWith('HTTP/1.1 200')) throw new Error(`unexpected answer: ${head.split('\r\n')[0]}`)
      size = end + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
      chunk = pending
    }
    bytes += chunk.length
    if (bytes >= size * batch) {
      if (bytes !== size * batch) throw new Error(`answers of unequal length (${bytes} bytes for ${batch})`)
      bytes = 0
      done?.()
    }
  })
  const many = Buffer.from(request.repeat(batch))
  return {
    async run(count) {
      for (let sent = 0; sent < count; sent += batch) {
        await new Promise<void>((resolve) => {
          done = resolve
          client.write(many)
        })
      }
    },
  }
}

/** CPU microseconds (user + system, the whole process) per request over `count` requests. */
export async function cpuPerRequest(driver: Driver, count: number): Promise<number> {
  const started = process.cpuUsage()
  await driver.run(count)
  const used = process.cpuUsage(started)
  return (used.user + used.system) / count
}
