/**
 * The database process's handle on its PGlite thread (see _engine-thread.ts): runs a batch of
 * frontend messages and resolves to the backend's reply bytes. One batch at a time: the front
 * serialises them.
 */
import { Worker } from 'node:worker_threads'

export type EngineRequest = { type: 'run'; id: number; messages: Uint8Array[] } | { type: 'close' }

export type EngineReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; bytes: Uint8Array }
  | { type: 'closed' }

const threadScript = new URL('./_engine-thread.js', import.meta.url)

export class Engine {
  private nextId = 0
  private readonly waiting = new Map<
    number,
    { resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void }
  >()
  private ending = false

  private constructor(
    private readonly thread: Worker,
    /** Called when the thread dies on its own (out of memory, a PGlite abort), not when ended. */
    onLost: (error: Error) => void,
  ) {
    thread.on('message', (reply: EngineReply) => {
      if (reply.type !== 'result') return
      this.waiting.get(reply.id)?.resolve(reply.bytes)
      this.waiting.delete(reply.id)
    })
    const lost = (error: Error) => {
      for (const { reject } of this.waiting.values()) reject(error)
      this.waiting.clear()
      if (!this.ending) onLost(error)
      this.ending = true
    }
    thread.on('error', lost)
    thread.on('exit', (code) => lost(new Error(`the PGlite thread exited with code ${code}`)))
  }

  /** Opens PGlite on `dataDir` (created and initialised on first use) in a new thread. */
  static open(dataDir: string, onLost: (error: Error) => void): Promise<Engine> {
    return new Promise((resolve, reject) => {
      const thread = new Worker(threadScript, { workerData: { dataDir } })
      const failed = (error: Error) => reject(error)
      thread.once('error', failed)
      thread.once('exit', (code) => reject(new Error(`PGlite could not open ${dataDir} (exit code ${code})`)))
      thread.once('message', (reply: EngineReply) => {
        if (reply.type !== 'ready') return
        thread.off('error', failed)
        thread.removeAllListeners('exit')
        resolve(new Engine(thread, onLost))
      })
    })
  }

  run(messages: Uint8Array[]): Promise<Uint8Array> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.thread.postMessage({ type: 'run', id, messages } satisfies EngineRequest)
    })
  }

  /**
   * Ends the thread at once, whatever it runs. Committed data is safe: PGlite writes through to
   * the data directory, and the next open replays its write-ahead log as after a crash.
   */
  async kill(): Promise<void> {
    this.ending = true
    await this.thread.terminate()
  }

  /** A clean close: PGlite checkpoints and shuts down, so the next open needs no recovery. */
  close(): Promise<void> {
    this.ending = true
    return new Promise((resolve) => {
      this.thread.once('exit', () => resolve())
      this.thread.once('message', (reply: EngineReply) => {
        if (reply.type === 'closed') void this.thread.terminate()
      })
      this.thread.postMessage({ type: 'close' } satisfies EngineRequest)
    })
  }
}
