/**
 * Per-request slots, through a real pipeline and server: a middleware fills one, the app reads
 * it, each request sees only its own, and two slots of the same name are two keys. A context
 * made elsewhere (not the pipeline's) keeps its slots too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serve } from '../_test/pipeline.js'
import type { AppHandler, Middleware, RequestContext } from '../types.js'
import { fillSlot, newSlot, slotOf } from './_slots.js'

const visitor = newSlot<string>('visitor')
const twin = newSlot<string>('visitor')

const tagging: Middleware = (ctx, next) => {
  fillSlot(ctx, visitor, ctx.req.headers['x-visitor'] as string | undefined)
  if (ctx.path === '/twin') fillSlot(ctx, twin, 'twin')
  return next()
}

const app: AppHandler = async (ctx) => {
  // Another request in flight meanwhile must not change what this one holds.
  await new Promise((wait) => setTimeout(wait, 20))
  const cleared = ctx.path === '/clear'
  if (cleared) fillSlot(ctx, visitor, undefined)
  ctx.res.end(`${slotOf(ctx, visitor) ?? 'none'} ${slotOf(ctx, twin) ?? 'none'}`)
}

let server: Awaited<ReturnType<typeof serve>>
beforeAll(async () => {
  server = await serve(app, {}, [tagging])
})
afterAll(() => server?.close())

const as = (visitorName: string | undefined, path = '/') =>
  fetch(`${server.url}${path}`, { headers: visitorName ? { 'x-visitor': visitorName } : {} }).then((r) =>
    r.text(),
  )

describe('per-request slots', () => {
  it("keeps each request's own value, apart from another slot of the same name", async () => {
    const answers = await Promise.all([as('ada'), as('grace'), as(undefined), as('edsger', '/twin')])
    expect(answers).toEqual(['ada none', 'grace none', 'none none', 'edsger twin'])
  })

  it('empties a slot filled with undefined', async () => {
    expect(await as('ada', '/clear')).toBe('none none')
  })

  it('works on a context the pipeline did not make', () => {
    const foreign = { id: 'x' } as unknown as RequestContext
    expect(slotOf(foreign, visitor)).toBeUndefined()
    fillSlot(foreign, visitor, 'kept')
    expect(slotOf(foreign, visitor)).toBe('kept')
    expect(slotOf({ id: 'y' } as unknown as RequestContext, visitor)).toBeUndefined()
  })
})
