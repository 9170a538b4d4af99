/**
 * Anchor (h): the bare node:http cluster of bare-cluster.ts, sending the headers a `shipshape
 * serve` response carries (its security headers, read once from the security middleware, and a
 * fresh X-Request-Id) as constants: what the header bytes alone cost, with no pipeline.
 */

import cluster from 'node:cluster'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { securityMiddleware } from '../../dist/security/index.js'
import { page } from './page.ts'

const workers = Number(process.env.WORKERS ?? 2)
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
} else {
  const preset = (securityMiddleware().provides?.answerHeaders?.(false) ?? []).flat()
  createServer((_req, res) => {
    res.writeHead(200, [
      'X-Request-Id',
      randomUUID(),
      ...preset,
      'content-type',
      'text/html; charset=utf-8',
      'content-length',
      String(page.length),
    ])
    res.end(page)
  }).listen(Number(process.env.PORT), '127.0.0.1')
}
