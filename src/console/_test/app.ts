/** A node:http app that gives the console something to show: an error, an N+1 loop, a slow query. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pool } from 'shipshape/db'

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url === '/boom') throw new Error('the console test app failed on purpose')
  if (req.url === '/loop') {
    for (let i = 0; i < 6; i++) await pool().query('SELECT $1::int AS n', [i])
  }
  if (req.url === '/slow') await pool().query('SELECT pg_sleep(0.6)')
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(`ok ${req.url}`)
}
