/** The app the supervisor tests run: each route exercises one way a real app misbehaves. */
import type { IncomingMessage, ServerResponse } from 'node:http'

const kept: Buffer[] = []
// A slow start-up (loading a large app, warming a cache), for tests that need a long reload.
await new Promise((started) => setTimeout(started, Number(process.env.FIXTURE_BOOT_MS ?? 0)))

export default function app(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://app')
  const ms = Number(url.searchParams.get('ms') ?? 0)
  switch (url.pathname) {
    case '/hang':
      return // never answers: the request timeout must
    case '/block': {
      const until = Date.now() + ms
      while (Date.now() < until) {} // a CPU-bound handler: only the watchdog can help
      break
    }
    case '/grow':
      // Memory the app keeps, as a leak would; filled, so its pages are really resident.
      kept.push(Buffer.alloc(Number(url.searchParams.get('mb')) * 1024 * 1024, 1))
      break
    case '/slow':
      // A line in the server's log, so a test knows the request reached the app before it acts.
      process.stdout.write(
        `${JSON.stringify({ level: 30, msg: 'fixture: slow request admitted', pid: process.pid })}\n`,
      )
      setTimeout(() => reply(res), ms)
      return
    case '/crash':
      setTimeout(() => {
        throw new Error('the app crashed on purpose')
      }, ms)
      return
  }
  reply(res)
}

function reply(res: ServerResponse): void {
  res.setHeader('content-type', 'text/plain')
  res.end(`pid ${process.pid} generation ${process.env.FIXTURE_GENERATION ?? '1'}\n`)
}
