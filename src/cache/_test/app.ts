/** An app using the serve worker's cache, for the cross-worker and cross-instance tests. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { cache, cdn, fragment } from 'shipshape/cache'

const runs = new Map<string, number>()
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms))
const publicPage = cdn({ sMaxAge: '2m', tags: ['home'] })

/** Each route answers JSON with this worker's pid. */
export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app')
  const key = url.searchParams.get('key') ?? 'k'
  const tag = url.searchParams.get('tag') ?? undefined
  const answer = (data: Record<string, unknown>) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ pid: process.pid, ...data }))
  }
  switch (url.pathname) {
    case '/mode':
      return answer({ mode: cache().mode })
    case '/get':
      return answer({ value: (await cache().get(key)) ?? null })
    case '/fill':
      // Fills this worker's copy with its own pid: no broadcast, as any getOrSet.
      return answer({
        value: await cache().getOrSet(key, () => process.pid, { ttl: '10m', tags: tag ? [tag] : [] }),
      })
    case '/delete':
      await cache().delete(key)
      return answer({})
    case '/tag':
      await cache().deleteByTag(tag ?? 'none')
      return answer({})
    case '/stampede': {
      // n concurrent misses on one key; the factory takes ms milliseconds.
      const n = Number(url.searchParams.get('n') ?? 10_000)
      const ms = Number(url.searchParams.get('ms') ?? 200)
      const factory = async () => {
        runs.set(key, (runs.get(key) ?? 0) + 1)
        await sleep(ms)
        return `computed by ${process.pid}`
      }
      const values = await Promise.all(Array.from({ length: n }, () => cache().getOrSet(key, factory)))
      return answer({ runs: runs.get(key) ?? 0, values: [...new Set(values)] })
    }
    case '/page': {
      const nav = await fragment('nav', '2m', async () => {
        await sleep(50)
        return '<nav>…</nav>'
      })
      publicPage(req, res)
      res.setHeader('content-type', 'text/html')
      return void res.end(`<body>${nav}</body>`)
    }
  }
  res.statusCode = 404
  res.end()
}
