/** The app the Lambda tests run: echoes what it received, sets two cookies, answers binary, throws. */
import type { IncomingMessage, ServerResponse } from 'node:http'

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const url = new URL(req.url ?? '/', 'http://app')
  if (url.pathname === '/png') {
    res.setHeader('content-type', 'image/png')
    return void res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]))
  }
  if (url.pathname === '/throw') throw new Error('the app failed on purpose')
  if (url.pathname === '/slow') return // never answers: the invocation's deadline must
  if (url.pathname === '/chunks') {
    // Two chunks a second apart: a streamed response delivers the first before the second exists.
    res.setHeader('set-cookie', 'seen=1')
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first\n')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    return void res.end('second\n')
  }
  res.setHeader('set-cookie', ['session=abc; HttpOnly; Secure', 'theme=dark'])
  res.setHeader('x-multi', ['one', 'two'])
  res.setHeader('content-type', 'application/json')
  res.end(
    JSON.stringify({
      method: req.method,
      url: req.url,
      cookie: req.headers.cookie,
      forwardedFor: req.headers['x-forwarded-for'],
      accept: req.headers.accept,
      deadline: req.headers['x-shipshape-lambda-deadline'],
      body: Buffer.concat(chunks).toString('base64'),
    }),
  )
}
