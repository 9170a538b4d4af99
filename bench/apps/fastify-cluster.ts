/**
 * Contender (d): Fastify 5 with @fastify/helmet and its own pino request log (two lines a
 * request, to stdout), in a node:cluster of WORKERS, serving the same page.
 */
import cluster from 'node:cluster'
import helmet from '@fastify/helmet'
import Fastify from 'fastify'
import { page } from './page.ts'

const workers = Number(process.env.WORKERS ?? 2)
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
} else {
  const app = Fastify({ logger: true })
  await app.register(helmet)
  app.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(page))
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
}
