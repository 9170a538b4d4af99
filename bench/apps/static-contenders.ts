/**
 * The static bench's Node contenders, each a node:cluster of WORKERS serving ROOT under /static/:
 *   `bare`: node:http answering the file's gzip copy from memory with HEADERS (a JSON list of
 *     [name, value], shipshape's own answer's, taken in the same run) and a fresh request id:
 *     the limit for Node;
 *   `sirv`: sirv with its precompressed files (`gzip: true`), immutable caching;
 *   `fastify`: Fastify 5 + @fastify/static with `preCompressed`, logger off.
 * Usage: node bench/apps/static-contenders.ts bare|sirv|fastify (PORT, ROOT, WORKERS, FILE, HEADERS)
 */
import cluster from 'node:cluster'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import fastifyStatic from '@fastify/static'
import Fastify from 'fastify'
import sirv from 'sirv'

const mode = process.argv[2]
const port = Number(process.env.PORT)
const root = process.env.ROOT as string
const workers = Number(process.env.WORKERS ?? 2)

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
} else if (mode === 'bare') {
  const body = readFileSync(`${root}/${process.env.FILE}.gz`)
  const headers = (JSON.parse(process.env.HEADERS as string) as [string, string][]).flat()
  createServer((_req, res) => {
    res.writeHead(200, ['X-Request-Id', randomUUID(), ...headers])
    res.end(body)
  }).listen(port, '127.0.0.1')
} else if (mode === 'sirv') {
  const serve = sirv(root, { gzip: true, immutable: true, maxAge: 31_536_000 })
  createServer((req, res) => {
    req.url = (req.url ?? '/').slice('/static'.length)
    serve(req, res, () => {
      res.statusCode = 404
      res.end()
    })
  }).listen(port, '127.0.0.1')
} else if (mode === 'fastify') {
  const app = Fastify({ logger: false })
  await app.register(fastifyStatic, {
    root,
    prefix: '/static/',
    preCompressed: true,
    immutable: true,
    maxAge: '1y',
  })
  await app.listen({ port, host: '127.0.0.1' })
} else {
  throw new Error(`unknown contender ${mode}`)
}
