/**
 * The app's own shutdown hooks (Fastify's and Nest's close(), the module's `close` export), run
 * by a leaving worker once its connections are done, before it exits: on a reload, recycling
 * and shutdown alike, within what is left of the graceful timeout.
 */
import type { Logger } from '../observe/index.js'
import type { AppHandler } from '../types.js'

export async function runShutdownHooks(
  close: AppHandler['close'],
  withinMs: number,
  logger: Logger,
): Promise<void> {
  if (close === undefined) return
  if (withinMs <= 0) {
    logger.warn("no time left in the graceful timeout for the app's shutdown hooks; they did not run")
    return
  }
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), withinMs)
  })
  const outcome = await Promise.race([
    Promise.resolve()
      .then(close)
      .then(
        () => 'done' as const,
        (error: unknown) => ({ error }),
      ),
    late,
  ])
  clearTimeout(timer)
  const ms = Math.round(performance.now() - started)
  if (outcome === 'late')
    logger.warn({ withinMs: Math.round(withinMs) }, "the app's shutdown hooks did not finish in time")
  else if (outcome === 'done') logger.info({ ms }, "the app's shutdown hooks ran")
  else logger.error({ err: outcome.error, ms }, "the app's shutdown hooks failed")
}
