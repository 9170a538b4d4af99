/**
 * The primary's metrics listener streams a large render slice by slice (no megabyte-long string
 * joined on the primary's event loop), with the primary's own sections before OpenMetrics' EOF.
 */
import { request } from 'node:http'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { durationBuckets } from '../http/index.js'
import { sampleProcess } from '../observe/index.js'
import { PrimaryMetrics } from './_metrics-primary.js'

let metrics: PrimaryMetrics | undefined
afterEach(() => metrics?.close())

interface Scrape {
  headers: Record<string, string | string[] | undefined>
  chunks: number
  body: string
}

/** Reads the scrape as it arrives, counting the body's chunks as the socket delivers them. */
function scrape(url: string, accept = 'text/plain'): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { accept } }, (res) => {
      let body = ''
      let chunks = 0
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        chunks++
        body += chunk
      })
      res.on('end', () => resolve({ headers: res.headers, chunks, body }))
    })
      .on('error', reject)
      .end()
  })
}

describe('the primary’s metrics listener', () => {
  it('streams 10,000 series in slices, every series present, sections before the EOF', async () => {
    let announce: (url: string) => void = () => {}
    const announced = new Promise<string>((resolve) => {
      announce = resolve
    })
    const logger = pino(
      { level: 'info' },
      {
        write: (line: string) => {
          const { metricsUrl } = JSON.parse(line) as { metricsUrl?: string }
          if (metricsUrl) announce(metricsUrl)
        },
      },
    )
    metrics = new PrimaryMetrics(
      {
        observe: { metrics: { host: '127.0.0.1', port: 0 } },
        database: { embedded: false },
        media: { driver: 's3' },
      } as unknown as ConstructorParameters<typeof PrimaryMetrics>[0],
      logger,
      () => undefined,
    )
    metrics.addSection((openMetrics) => `# TYPE own_gauge gauge\nown_gauge{open="${openMetrics}"} 1\n`)
    const series = Array.from({ length: 625 }, (_, i) => ({
      method: 'GET',
      route: `/route/${i}/:id`,
      status: 200,
      count: 3,
      sum: 0.5,
      buckets: durationBuckets.map(() => 0).concat(3),
    }))
    const webSockets = { open: 0, closed: 0, bytesIn: 0, bytesOut: 0 }
    metrics.beat(101, { http: { series, timeouts: 0, inflight: 0, webSockets }, process: sampleProcess() })
    const url = await announced

    const text = await scrape(url)
    expect(text.headers['transfer-encoding']).toBe('chunked')
    expect(text.chunks).toBeGreaterThan(1)
    const lines = text.body.split('\n').filter((line) => line.includes('route="/route/'))
    expect(lines.length).toBe(625 * (1 + durationBuckets.length + 3))
    expect(text.body).toContain(
      'http_requests_total{method="GET",route="/route/624/:id",status_code="200"} 3\n',
    )
    expect(text.body.endsWith('own_gauge{open="false"} 1\n')).toBe(true)

    const open = await scrape(url, 'application/openmetrics-text; version=1.0.0')
    expect(open.body.endsWith('own_gauge{open="true"} 1\n# EOF\n')).toBe(true)
    expect(open.body.match(/# EOF/g)?.length).toBe(1)
  })
})
