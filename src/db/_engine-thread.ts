/**
 * The thread that owns PGlite inside the database process. PGlite runs queries synchronously on
 * the thread it lives on, so it gets a thread of its own: the process's main thread (the socket
 * front, its waits and timeouts, the primary's messages) stays responsive while a query runs,
 * and can end this thread when a query outlives the statement timeout, which PGlite itself does
 * not enforce (its timers cannot fire while WebAssembly runs).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import type { EngineReply, EngineRequest } from './_engine.js'

const port = parentPort as NonNullable<typeof parentPort>
const db = await PGlite.create({ dataDir: (workerData as { dataDir: string }).dataDir })

port.on('message', async (request: EngineRequest) => {
  if (request.type === 'close') {
    await db.close()
    port.postMessage({ type: 'closed' } satisfies EngineReply)
    return
  }
  // One frontend message at a time, as a Postgres backend reads them; the replies are joined.
  const replies = request.messages.map((message) => db.execProtocolRawSync(message))
  port.postMessage({ type: 'result', id: request.id, bytes: Buffer.concat(replies) } satisfies EngineReply)
})
port.postMessage({ type: 'ready' } satisfies EngineReply)
