/**
 * Per-route slow-request thresholds: which pattern wins for a route, and how the settings
 * (file, environment, flag) take them and refuse bad ones, naming the pattern.
 */
import { describe, expect, it } from 'vitest'
import { tempDir } from '../_test/temp.js'
import { loadServeOptions } from '../server/index.js'
import { RouteThresholds } from './_thresholds.js'

const problemOf = (run: () => unknown): string => {
  try {
    run()
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`
  }
  throw new Error('no problem reported')
}

describe('RouteThresholds', () => {
  const thresholds = new RouteThresholds(
    {
      '/api/*': 1000,
      '/api/users/*': 300,
      'GET /api/users/*': 200,
      '/api/users/:id': 100,
      'GET /api/users/:id*': 90,
      'DELETE /api/users/:id': 50,
      'POST /upload*': 5000,
    },
    500,
  )
  const of = (method: string, route: string) => thresholds.of(method, route)

  it('gives the longest match, exact before prefix, with a method before without', () => {
    expect(of('PUT', '/api/orders')).toEqual({ ms: 1000, pattern: '/api/*' })
    expect(of('PUT', '/api/users/me')).toEqual({ ms: 300, pattern: '/api/users/*' })
    // Same path length: the method wins.
    expect(of('GET', '/api/users/me')).toEqual({ ms: 200, pattern: 'GET /api/users/*' })
    // Same length, one exact and one a prefix with a method: exact wins.
    expect(of('GET', '/api/users/:id')).toEqual({ ms: 100, pattern: '/api/users/:id' })
    expect(of('DELETE', '/api/users/:id')).toEqual({ ms: 50, pattern: 'DELETE /api/users/:id' })
    // A longer path beats a method on a shorter one.
    expect(of('GET', '/api/users/:id/posts')).toEqual({ ms: 90, pattern: 'GET /api/users/:id*' })
    expect(of('PUT', '/api/users/:id/posts')).toEqual({ ms: 300, pattern: '/api/users/*' })
    expect(of('POST', '/uploads/:id')).toEqual({ ms: 5000, pattern: 'POST /upload*' })
  })

  it('gives the default to a route no pattern matches, or whose method differs', () => {
    expect(of('GET', '/health')).toEqual({ ms: 500, pattern: undefined })
    expect(of('PUT', '/upload')).toEqual({ ms: 500, pattern: undefined })
    // A prefix is of the route's text, and an exact pattern matches only itself.
    expect(of('GET', '/api')).toEqual({ ms: 500, pattern: undefined })
    expect(new RouteThresholds({ '/a': 1 }, 7).of('GET', '/a/b')).toEqual({ ms: 7, pattern: undefined })
  })

  it('refuses a pattern that is not one', () => {
    for (const [pattern, says] of [
      ['', /empty/],
      ['/a*/b', /\* only at the end/],
      ['FETCH /a', /known HTTP method.*"FETCH"/],
      ['get /a', /"get"/],
      ['api/*', /starting with \//],
      ['GET  /a b', /one space/],
    ] as const)
      expect(() => new RouteThresholds({ [pattern]: 1 }, 500), pattern).toThrow(says)
  })
})

describe('apm.slowRequest and apm.routeThresholds', () => {
  const load = (env: Record<string, string>, flags: Record<string, string> = {}, configFile?: string) =>
    loadServeOptions('app.js', flags, env, { cwd: '/srv/app', configFile }).apm

  it('default to 500 ms and none: what requests were reported slow at before', () => {
    expect(load({})).toMatchObject({ slowRequestMs: 500, routeThresholds: {} })
  })

  it('come from the config file, the environment (JSON) and a flag (JSON)', () => {
    const temp = tempDir({
      'shipshape.yaml':
        'apm:\n  slowRequest: 2s\n  routeThresholds:\n    /api/*: 1s\n    GET /health: 50ms\n',
    })
    try {
      expect(load({}, {}, `${temp.dir}/shipshape.yaml`)).toMatchObject({
        slowRequestMs: 2000,
        routeThresholds: { '/api/*': 1000, 'GET /health': 50 },
      })
    } finally {
      temp.remove()
    }
    expect(load({ SHIPSHAPE_APM_ROUTE_THRESHOLDS: '{"/slow*": "30ms"}' }).routeThresholds).toEqual({
      '/slow*': 30,
    })
    expect(load({}, { 'apm-route-thresholds': '{"POST /upload*": 5000}' }).routeThresholds).toEqual({
      'POST /upload*': 5000,
    })
  })

  it('refuse a bad pattern or duration, naming the setting, its source and each bad entry', () => {
    const message = problemOf(() =>
      load({ SHIPSHAPE_APM_ROUTE_THRESHOLDS: '{"/a*b": "1s", "FETCH /x": "1s", "/ok": "soon"}' }),
    )
    expect(message).toMatch(/^SHIPSHAPE_E_BAD_OPTION/)
    expect(message).toContain('apm.routeThresholds from SHIPSHAPE_APM_ROUTE_THRESHOLDS')
    expect(message).toContain('/a*b: * only at the end')
    expect(message).toContain('FETCH /x: a known HTTP method')
    expect(message).toContain('/ok: a duration such as 500ms')
    expect(problemOf(() => load({}, { 'apm-route-thresholds': '/a=1s' }))).toContain(
      'apm.routeThresholds from --apm-route-thresholds: expected a JSON object',
    )
  })
})
