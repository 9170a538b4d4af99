/**
 * The database process: owns the embedded PGlite database (in a thread of its own, see
 * _engine.ts) and serves it on a Unix socket through the wire front (_front.ts). The primary
 * forks it before any worker, restarts it when it dies and stops it after the last worker has
 * finished; it never runs app code. It takes its options over the IPC channel, as workers do.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { Engine } from './_engine.js'
import { Front } from './_front.js'
import { type DatabaseOptions, socketName } from './_url.js'

export type DatabaseProcessMessage = { type: 'hello' } | { type: 'ready' } | { type: 'failed'; error: string }
export type ToDatabaseProcess = { type: 'options'; options: DatabaseOptions } | { type: 'stop' }

// The primary decides when this process stops (see the worker's same lines).
process.on('SIGTERM', () => {})
process.on('SIGINT', () => {})
process.on('SIGHUP', () => {})

const send = (message: DatabaseProcessMessage) =>
  new Promise<void>((resolve) => {
    if (!process.connected) return resolve()
    process.send?.(message, undefined, {}, () => resolve())
  })

const orphaned = () => process.exit(0) // the primary died before sending them
process.once('disconnect', orphaned)
const options = await new Promise<DatabaseOptions>((resolve) => {
  process.once('message', (message: ToDatabaseProcess) => {
    if (message.type === 'options') resolve(message.options)
  })
  void send({ type: 'hello' })
})
process.off('disconnect', orphaned)

/** A socket that answers belongs to a live server on the same data directory. */
function inUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}

let engine: Engine
const lost = (error: Error) => {
  // PGlite's thread died by itself: this process exits, and the primary starts a fresh one.
  process.stderr.write(`shipshape database: ${error.message}\n`)
  process.exit(1)
}

async function start(): Promise<Front> {
  mkdirSync(options.dataDir, { recursive: true })
  mkdirSync(options.socketDir, { recursive: true, mode: 0o700 })
  const path = join(options.socketDir, socketName)
  if (await inUse(path))
    throw new Error(`another database process serves ${options.dataDir} (socket ${path})`)
  rmSync(path, { force: true })
  engine = await Engine.open(options.dataDir, lost)
  const front = new Front(
    {
      run: (messages) => engine.run(messages),
      async restart() {
        await engine.kill()
        engine = await Engine.open(options.dataDir, lost)
      },
    },
    {
      waitMs: options.busyTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      idleInTransactionMs: options.idleInTransactionMs,
    },
  )
  await front.listen(path)
  return front
}

try {
  const front = await start()
  const stop = async () => {
    await front.close()
    await engine.close()
    process.exit(0)
  }
  process.on('message', (message: ToDatabaseProcess) => {
    if (message.type === 'stop') void stop()
  })
  process.on('disconnect', () => void stop())
  await send({ type: 'ready' })
} catch (error) {
  await send({ type: 'failed', error: error instanceof Error ? error.message : String(error) })
  process.exit(1)
}
