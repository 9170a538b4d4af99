/** The app the observe suite serves: each route fails in one of the ways error tracking captures. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { getContext } from 'shipshape'
import { cache } from 'shipshape/cache'
import { pool } from 'shipshape/db'
import { captureError, captureMessage, createLogger } from 'shipshape/observe'

const log = createLogger()

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app')
  const [, first, id] = url.pathname.split('/')
  switch (first) {
    case 'fail': {
      const ctx = getContext()
      if (ctx) ctx.state.user = { id: 'u-7', email: 'ann@example.com', password: 'never shown' }
      log.info({ order: id, token: 'tok-never-shown' }, 'loading the order')
      await pool().query('SELECT $1::int AS id', [id])
      throw new Error(`order ${id} could not be loaded`)
    }
    case 'cached': {
      // A new key each time: one miss per request, counted by the worker that served it.
      await cache().getOrSet(`item-${id}`, () => id)
      res.setHeader('content-type', 'text/plain')
      res.end(`${process.pid}\n`)
      return
    }
    case 'message':
      captureMessage('the cache is cold', 'warning')
      break
    case 'captured':
      // The app's own report of an error it handled: ?grouped=billing gives it a fingerprint.
      captureError(new Error(`invoice ${id} could not be sent`), {
        tags: { area: 'billing' },
        extra: { invoice: Number(id) },
        level: 'warning',
        ...(url.searchParams.has('grouped') ? { fingerprint: ['billing', '{{ default }}'] } : {}),
      })
      break
    case 'hang':
      return
    case 'slow-report':
      await loadSlowReport(getContext()?.signal)
      break
    case 'block': {
      const until = Date.now() + Number(url.searchParams.get('ms') ?? 0)
      while (Date.now() < until) {}
      break
    }
    case 'crash':
      setTimeout(() => {
        throw new Error('the app crashed on purpose')
      }, 10)
      break
    case 'reject':
      void Promise.reject(new Error('a promise nobody awaited'))
      break
  }
  res.setHeader('content-type', 'text/plain')
  res.end('ok\n')
}

/** Awaits a minute, or until the request's signal aborts (its timeout): the timeout's event names this line. */
async function loadSlowReport(signal: AbortSignal | undefined): Promise<void> {
  await sleep(60_000, undefined, { signal })
}
