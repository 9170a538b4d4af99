/**
 * RED metrics keep a bounded number of route series: past 500 distinct routes a worker counts
 * the rest as route `other`, so paths the id collapsing misses cannot grow the series (and the
 * primary's render) without end. Through the real pipeline, on a socket.
 */
import { describe, expect, it } from 'vitest'
import { serve } from '../_test/pipeline.js'
import { httpMetrics } from '../http/index.js'

/** 520 distinct paths of letters only (no digits, no hex), which the id collapsing leaves alone. */
const letters = 'ghijklmnopqrstuvwxyz'
const paths = Array.from(
  { length: 520 },
  (_, i) => `/${letters[Math.floor(i / 400) % 20]}${letters[Math.floor(i / 20) % 20]}${letters[i % 20]}`,
)

describe('route cardinality', () => {
  it('counts at most 500 routes per worker, the rest as route "other"', async () => {
    const server = await serve(async (ctx) => {
      ctx.res.end('ok')
    })
    try {
      for (const path of paths) expect((await fetch(`${server.url}${path}`)).status).toBe(200)
    } finally {
      await server.close()
    }
    expect(new Set(paths).size).toBe(520)
    const series = httpMetrics(true).series.filter((s) => s.method === 'GET' && s.status === 200)
    expect(series).toHaveLength(501)
    expect(series.find((s) => s.route === 'other')?.count).toBe(20)
    expect(series.filter((s) => s.route !== 'other').every((s) => s.count === 1)).toBe(true)
  })
})
