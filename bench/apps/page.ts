/** The page every throughput contender serves: a small HTML document, as a node:http listener. */
import type { IncomingMessage, ServerResponse } from 'node:http'

export const page = Buffer.from(
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench</title></head><body><h1>Hello</h1>${'<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>'.repeat(12)}</body></html>`,
)

export default function handler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/hang') return // never answers: the request timeout must
  if (req.url?.startsWith('/block')) {
    const until = Date.now() + Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 30_000)
    while (Date.now() < until) {}
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length })
  res.end(page)
}
