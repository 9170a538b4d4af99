/**
 * `shipshape serve`'s primary process: claims the pidfile, listens, runs the supervisor, and
 * removes what it wrote when it stops.
 */
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { superviseDatabase } from '../db/supervisor.js'
import { createLogger } from '../observe/index.js'
import type { ServeOptions } from './_composed.js'
import { claimPidfile, reloadLogFor } from './_control.js'
import { listen, listenOnPath, tcpUrl } from './_listen.js'
import { Supervisor } from './_primary.js'

export async function serve(options: ServeOptions): Promise<number> {
  if (process.env.NODE_ENV === undefined) process.env.NODE_ENV = 'production'
  const logger = createLogger({ level: options.logLevel, buffered: false })
  if (process.env.NODE_ENV !== 'production') {
    logger.warn(
      { NODE_ENV: process.env.NODE_ENV },
      'NODE_ENV is not "production": frameworks may show debug pages',
    )
  }
  const pidfile = resolve(options.pidfile)
  claimPidfile(pidfile)
  const reloads = reloadLogFor(pidfile)
  const listener = createServer({ pauseOnConnect: true })
  let database: Awaited<ReturnType<typeof superviseDatabase>> | undefined
  try {
    // The embedded database serves before any worker starts, and stops after the last one.
    if (options.database.url === '' && options.database.embedded)
      database = await superviseDatabase(options.database, logger)
    // Before any worker runs the new code; loaded only when asked for, the primary stays without pg.
    if (options.database.migrateOnServe)
      await (await import('../db/tools.js')).migrate(options.database, logger)
    await (options.socketPath ? listenOnPath(listener, options.socketPath) : listen(listener, options))
  } catch (error) {
    await database?.stop()
    rmSync(pidfile, { force: true })
    reloads.remove()
    throw error
  }
  const supervisor = new Supervisor(options, logger, listener, reloads)
  const url = options.socketPath ? `unix:${options.socketPath}` : tcpUrl(options, listener)
  logger.info({ url, workers: options.workers }, `listening on ${url}`)
  try {
    return await supervisor.run()
  } finally {
    await database?.stop()
    rmSync(pidfile, { force: true })
    reloads.remove()
    await new Promise((done) => logger.flush(done))
  }
}
