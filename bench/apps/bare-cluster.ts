/** Anchor (a): the fastest honest server Node offers, a bare node:http cluster with no pipeline. */
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import handler from './page.ts'

const workers = Number(process.env.WORKERS ?? 2)
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
} else {
  createServer(handler).listen(Number(process.env.PORT), '127.0.0.1')
}
