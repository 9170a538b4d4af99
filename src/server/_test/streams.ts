/** Streams, long polls and a blocking handler, for the request clock's tests under `shipshape serve`. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { drainSignal, getContext } from 'shipshape'

/** A line in the server's JSON log, so a test can wait for what the app saw. */
const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ level: 30, msg, pid: process.pid, ...fields })}\n`)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export default async function streams(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app')
  const ms = Number(url.searchParams.get('ms') ?? 0)
  const count = Number(url.searchParams.get('count') ?? 0)
  switch (url.pathname) {
    case '/sse': {
      // An event every `ms`, `count` times: a stream that is never quiet for long.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
      for (let i = 0; i < count; i++) {
        res.write(`data: ${i}\n\n`)
        await sleep(ms)
      }
      res.end('data: end\n\n')
      return
    }
    case '/quiet':
      // One event, then silence: only the idle timeout ends it.
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: hello\n\n')
      getContext()?.signal.addEventListener('abort', () => log('fixture: quiet stream aborted'))
      return
    case '/sse-drain': {
      // Ends its stream when the worker drains, telling the client when to reconnect.
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`data: pid ${process.pid}\n\n`)
      const ctx = getContext()
      const end = () => res.end('retry: 500\ndata: draining\n\n')
      if (ctx?.drainSignal.aborted) end()
      else ctx?.drainSignal.addEventListener('abort', end)
      log('fixture: stream open', { drainSignalIsShared: ctx?.drainSignal === drainSignal() })
      return
    }
    case '/own':
      // The app takes its time limit off itself, then answers after `ms`.
      getContext()?.setTimeout(0)
      await sleep(ms)
      res.end('own time\n')
      return
    case '/slow':
      await sleep(ms)
      res.end('slow\n')
      return
    case '/block': {
      const until = Date.now() + ms
      while (Date.now() < until) {}
      res.end('unblocked\n')
      return
    }
    case '/two-chunks':
      // The first bytes, then the rest a millisecond later: Nagle's algorithm holds the rest
      // back until the client's delayed ACK, unless TCP_NODELAY is set.
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first\n')
      await sleep(1)
      res.end('second\n')
      return
  }
  if (url.pathname.startsWith('/events/')) {
    // A long poll on an exempt route: its first byte comes after `ms`.
    await sleep(ms)
    res.end('late but allowed\n')
    return
  }
  res.end('ok\n')
}
