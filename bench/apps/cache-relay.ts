/** For the relay bench: /fill?key= caches this worker's pid under key, /get?key= reads it, /delete?key= deletes it. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { cache } from 'shipshape/cache'

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app')
  const key = url.searchParams.get('key') ?? 'k'
  let value: unknown = null
  if (url.pathname === '/fill') value = await cache().getOrSet(key, () => process.pid)
  else if (url.pathname === '/get') value = (await cache().get(key)) ?? null
  else if (url.pathname === '/delete') await cache().delete(key)
  res.end(JSON.stringify({ pid: process.pid, value }))
}
