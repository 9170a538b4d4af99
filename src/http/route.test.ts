/**
 * Route names: the framework's own template for Express, Fastify, Hono and Koa (@koa/router),
 * else the path with its ids collapsed, so 10,000 distinct ids make one route.
 */
import { describe, expect, it } from 'vitest'
import { get } from '../_test/client.js'
import { serve } from '../_test/pipeline.js'
import type { AppHandler, Middleware } from '../types.js'
import { collapsePath, routeName } from './index.js'

/** Records each request's route name once the app has answered it. */
function recorder(seen: string[]): Middleware {
  return async function recordRoute(ctx, next) {
    await next()
    seen.push(routeName(ctx))
  }
}

describe('route names from the framework', () => {
  for (const framework of ['express', 'fastify', 'hono', 'koa']) {
    it(`${framework}: the matched route's template, nested routers included, and the collapsed path for a 404`, async () => {
      const seen: string[] = []
      const module = new URL(`./_test/routes-${framework}.ts`, import.meta.url).pathname
      const server = await serve(module, {}, [recorder(seen)])
      try {
        expect((await get(server.port, '/users/42')).status).toBe(200)
        expect((await get(server.port, '/users/alice')).status).toBe(200)
        expect((await get(server.port, '/api/posts/7f3e9a2b-0c4d-4e5f-8a9b-1c2d3e4f5a6b')).status).toBe(200)
        expect((await get(server.port, '/nowhere/123')).status).toBe(404)
        expect(seen).toEqual(['/users/:id', '/users/:id', '/api/posts/:postId', '/nowhere/:id'])
      } finally {
        await server.close()
      }
    })
  }
})

describe('collapsed paths', () => {
  it('turns numbers, UUIDs, hex and digit-bearing segments into placeholders, keeping words and versions', () => {
    expect(collapsePath('/users/42/posts/9')).toBe('/users/:id/posts/:id')
    expect(collapsePath('/files/7F3E9A2B-0C4D-4E5F-8A9B-1C2D3E4F5A6B')).toBe('/files/:uuid')
    expect(collapsePath('/commits/deadbeef1234')).toBe('/commits/:hex')
    expect(collapsePath('/orders/ord_8fj2k9')).toBe('/orders/:id')
    expect(collapsePath('/api/v2/users/')).toBe('/api/v2/users/')
    expect(collapsePath('/')).toBe('/')
    expect(collapsePath(`/${'a'.repeat(300)}`)).toHaveLength(200)
  })

  it('10,000 distinct ids through a served app make one route', async () => {
    const seen = new Set<string>()
    const app: AppHandler = async ({ res }) => {
      res.end('ok')
    }
    const server = await serve(app, { accessLog: false }, [
      async function recordRoute(ctx, next) {
        await next()
        seen.add(routeName(ctx))
      },
    ])
    try {
      for (let start = 0; start < 10_000; start += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => {
            return get(server.port, `/items/${start + i}`)
          }),
        )
      }
      expect([...seen]).toEqual(['/items/:id'])
    } finally {
      await server.close()
    }
  })
})
