/** An app that tags what shipshape records: the worker's region at start-up, each request's tenant. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pool } from 'shipshape/db'
import { createLogger, setTag } from 'shipshape/observe'

setTag('region', 'eu-test')
const log = createLogger()

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const tenant = url.searchParams.get('tenant')
  if (tenant) setTag('tenant', tenant)
  if (url.pathname === '/fail') {
    setTag('sessionId', 'sess-never-shown') // a secret's name: kept masked
    setTag('author', 'ann') // not one
    log.info({ tenant, apiKey: 'key-never-shown', attempt: 1 }, 'charging the tenant')
    throw new Error('the tagged app failed on purpose')
  }
  if (url.pathname === '/slow') await pool().query('SELECT pg_sleep(0.08)')
  if (url.pathname === '/bad-tag') {
    try {
      setTag('request_id', 'mine')
    } catch (error) {
      res.end(`${(error as { code?: string }).code}: ${(error as Error).message}`)
      return
    }
  }
  res.end('ok')
}
