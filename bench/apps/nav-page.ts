/** The talk's page: a navigation that takes 2 s to render, uncached at /uncached, a cached fragment at /cached. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fragment } from 'shipshape/cache'

async function renderNav(): Promise<string> {
  await new Promise((wake) => setTimeout(wake, 2000))
  return `<nav>${Array.from({ length: 50 }, (_, i) => `<a href="/c/${i}">Category ${i}</a>`).join('')}</nav>`
}

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const nav =
    req.url === '/cached'
      ? await fragment('nav', '2m', () => {
          console.log(JSON.stringify({ msg: 'rendered cached nav', pid: process.pid }))
          return renderNav()
        })
      : await renderNav()
  res.setHeader('content-type', 'text/html; charset=utf-8')
  res.end(`<!doctype html><title>Shop</title>${nav}<main>products…</main>`)
}
