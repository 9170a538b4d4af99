/**
 * A local npm registry for the audit tests: the bulk advisory endpoint and packuments, from the
 * recorded files beside this one (registry/README.md says where they come from), on a free port.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

const recorded = (name: string) =>
  JSON.parse(readFileSync(new URL(`./registry/${name}`, import.meta.url), 'utf8'))
export const bulkAdvisories: Record<string, unknown[]> = recorded('advisories-bulk.json')
export const packuments: Record<string, unknown> = recorded('packuments.json')

export interface FakeRegistry {
  url: string
  /** Every request, as `METHOD path`. */
  requests: string[]
  /** The bodies the bulk endpoint received, gunzipped. */
  bulkBodies: Array<Record<string, string[]>>
  close(): Promise<void>
}

export async function startRegistry({
  advisories = bulkAdvisories,
  status = 200,
}: {
  advisories?: Record<string, unknown[]>
  status?: number
} = {}): Promise<FakeRegistry> {
  const requests: string[] = []
  const bulkBodies: Array<Record<string, string[]>> = []
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/-/npm/v1/security/advisories/bulk') {
        if (status !== 200) return void res.writeHead(status).end()
        const raw = Buffer.concat(chunks)
        const body = JSON.parse(
          (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
        ) as Record<string, string[]>
        bulkBodies.push(body)
        const answer = Object.fromEntries(
          Object.keys(body).flatMap((name) => (advisories[name] ? [[name, advisories[name]]] : [])),
        )
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
      }
      const name = decodeURIComponent((req.url ?? '/').slice(1))
      const packument = packuments[name]
      if (req.method !== 'GET' || packument === undefined) return void res.writeHead(404).end('{}')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument))
    })
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    bulkBodies,
    close: () => new Promise((closed) => server.close(() => closed())),
  }
}
