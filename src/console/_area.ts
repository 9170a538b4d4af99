/**
 * The console's middleware in the default stack: requests under console.prefix (but not the
 * monitor endpoint's /_shipshape/monitor/) go through the auth capability's protect() with MFA
 * and the allow-list, then to the console's pages. The auth pages and the console's modules load
 * on the first such request: a worker whose console is never opened pays one prefix test.
 */
import type { Logger } from '../observe/index.js'
import type { Middleware, Next, RequestContext } from '../types.js'
import type { ConsoleHost } from './_view.js'

/** The monitor's endpoint keeps this path whatever the console's prefix. */
const monitorPath = '/_shipshape/monitor/'

export function consoleArea(host: ConsoleHost, logger: Logger): Middleware {
  const { prefix } = host.console
  let loaded: Promise<Middleware> | undefined

  async function load(): Promise<Middleware> {
    const [{ currentUser, protect, servedAreaOptions }, { consoleRouter }] = await Promise.all([
      import('../auth/index.js'),
      import('./_router.js'),
    ])
    const guard = protect(prefix, {
      ...servedAreaOptions(host.auth, host.cache, logger),
      mfa: host.console.mfa,
      allowIps: host.console.allowIps,
    })
    const router = consoleRouter(host, logger)
    return (ctx, next) =>
      guard(ctx, async () => {
        const user = currentUser(ctx)
        const pool = ctx.worker.db?.pool
        // protect() lets a request through only with a signed-in user and a pool.
        if (user === undefined || pool === undefined) return next()
        await router.answer(ctx, user, pool)
      })
  }

  // Not async: a request outside the console gets next()'s own promise, not one more wrapping it.
  return function opsConsole(ctx: RequestContext, next: Next): Promise<void> {
    const { path } = ctx
    if ((path !== prefix && !path.startsWith(`${prefix}/`)) || path.startsWith(monitorPath)) return next()
    // Without a database there are no users and nothing to show: the path is the app's.
    if (ctx.worker.db === undefined) return next()
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined
      throw error
    })
    return loaded.then((serve) => serve(ctx, next))
  }
}
