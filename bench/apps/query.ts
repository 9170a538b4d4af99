/** One query per request through the worker's pool: what the APM and the console record. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pool } from 'shipshape/db'

export default async function app(_req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { rows } = await pool().query('SELECT 1 AS n')
  res.setHeader('content-type', 'text/plain')
  res.end(`ok ${rows[0]?.n}`)
}
