/** The request clock's and the drain's contract with the app, in one process. */
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, serve } from '../_test/pipeline.js'
import type { AppHandler } from '../types.js'

let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

describe('getContext().setTimeout()', () => {
  it('refuses a negative or non-finite limit with SHIPSHAPE_E_ARGUMENT (a 500, logged)', async () => {
    const app: AppHandler = async (ctx) => {
      ctx.setTimeout(Number(new URL(ctx.req.url ?? '/', 'http://x').searchParams.get('ms')))
      ctx.res.end('set')
    }
    const server = await serve(app)
    close = server.close
    expect((await fetch(`${server.url}/?ms=-1`)).status).toBe(500)
    expect((await fetch(`${server.url}/?ms=NaN`)).status).toBe(500)
    expect(await (await fetch(`${server.url}/?ms=250`)).text()).toBe('set')
    const failures = server.logs.filter((line) => line.level === 50)
    expect(failures.map((line) => (line.err as { code?: string }).code)).toEqual([
      'SHIPSHAPE_E_ARGUMENT',
      'SHIPSHAPE_E_ARGUMENT',
    ])
  })
})

describe('drainSignal', () => {
  it('fires when the pipeline drains, while the request’s own signal does not', async () => {
    const app: AppHandler = async (ctx) => {
      await new Promise((drained) => ctx.drainSignal.addEventListener('abort', drained))
      ctx.res.end(`drained; request signal aborted: ${ctx.signal.aborted}`)
    }
    const server = await serve(app)
    close = server.close
    const reply = fetch(server.url)
    await eventually(() => server.pipeline.inflight().length === 1, 'the request in flight')
    server.pipeline.drain()
    const answer = await reply
    expect(await answer.text()).toBe('drained; request signal aborted: false')
    expect(answer.headers.get('connection')).toBe('close')
  })
})
