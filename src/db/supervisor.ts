/**
 * The primary's side of the embedded database: forks the database process (_process.ts) before
 * any worker, restarts it when it dies (with the workers' backoff: 100 ms doubling to 10 s), and
 * stops it last, once every worker has finished. A reload leaves it alone. Apart from
 * shipshape/db's index so that the primary never loads pg.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { ShipshapeError } from '../errors/index.js'
import type { Logger } from '../observe/index.js'
import type { DatabaseProcessMessage, ToDatabaseProcess } from './_process.js'
import type { DatabaseOptions } from './_url.js'

const processScript = new URL('./_process.js', import.meta.url)
const backoffMs = (crashes: number) => Math.min(10_000, 100 * 2 ** Math.max(0, crashes - 1))
/** How long a stopping database process may take to checkpoint and close before it is killed. */
const stopGraceMs = 10_000

export interface DatabaseSupervisor {
  /** The database process's pid (a new one after each restart). */
  readonly pid: number
  /** Stops it cleanly (PGlite checkpoints); resolves once it has exited. */
  stop(): Promise<void>
}

/**
 * Starts the database process; resolves once it serves its socket, and rejects with
 * SHIPSHAPE_E_DB_PROCESS when it cannot start (the start-up is not retried: a data directory
 * that cannot be opened will not open on the next try either).
 */
export function superviseDatabase(options: DatabaseOptions, logger: Logger): Promise<DatabaseSupervisor> {
  let child: ChildProcess
  let stopping = false
  let crashes = 0
  let exited: Promise<void> = Promise.resolve()

  const launch = (first: boolean) =>
    new Promise<void>((resolve, reject) => {
      child = fork(processScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      const started = performance.now()
      let ready = false
      let lastError: string | undefined
      child.on('error', () => {}) // a send to a process that just died: its exit handles it
      child.on('message', (message: DatabaseProcessMessage) => {
        if (message.type === 'hello') child.send({ type: 'options', options } satisfies ToDatabaseProcess)
        else if (message.type === 'failed') lastError = message.error
        else if (message.type === 'ready') {
          ready = true
          crashes = 0
          logger.info(
            { database: child.pid, dataDir: options.dataDir, ms: Math.round(performance.now() - started) },
            'database process ready',
          )
          resolve()
        }
      })
      exited = new Promise((done) => {
        child.once('exit', (code, signal) => {
          done()
          if (stopping) return
          if (!ready && first) {
            return reject(new ShipshapeError('SHIPSHAPE_E_DB_PROCESS', lastError ?? `exit code ${code}`))
          }
          const delayMs = backoffMs(++crashes)
          logger.error(
            { database: child.pid, code, signal, delayMs, error: lastError },
            'database process exited; restarting it',
          )
          setTimeout(() => {
            if (!stopping) launch(false).catch(() => {})
          }, delayMs).unref()
          resolve()
        })
      })
    })

  return launch(true).then(() => ({
    get pid() {
      return child.pid ?? 0
    },
    async stop() {
      stopping = true
      if (child.exitCode !== null || child.signalCode !== null) return
      if (child.connected) child.send({ type: 'stop' } satisfies ToDatabaseProcess)
      const kill = setTimeout(() => child.kill('SIGKILL'), stopGraceMs)
      await exited
      clearTimeout(kill)
      logger.info('database process stopped')
    },
  }))
}
