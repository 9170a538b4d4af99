/**
 * Hono (`export default app`) and NestJS (`export default NestFactory.create(AppModule)`) under
 * `shipshape serve`: pages whose inline scripts carry cspNonce() hydrate with no violation;
 * Hono's streamed responses and Server-Sent Events arrive event by event, its WebSocket echoes
 * and is closed 1001 on reload; SIGTERM runs Nest's shutdown hooks.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Running } from '../src/_test/cli.ts'
import { tempDir } from '../src/_test/temp.ts'
import { expectHydrates, fixture, launch, serveFixture, visit } from './_harness.ts'

describe('Hono and NestJS under shipshape serve', () => {
  let hono: Running
  let nest: Running
  let browser: Browser
  beforeAll(async () => {
    hono = await serveFixture(fixture('hono'), 'app.js')
    nest = await serveFixture(fixture('nest'), 'dist/main.js')
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await hono?.stop()
    await nest?.stop()
  })

  it('Hono: the nonced page hydrates and receives Server-Sent Events through the policy', async () => {
    const { page } = await expectHydrates(browser, `${hono.url}/`)
    await page.locator('#events li', { hasText: 'tick 3' }).waitFor({ timeout: 20_000 })
    expect(await page.locator('#events li').allTextContents()).toEqual(['tick 1', 'tick 2', 'tick 3'])
  })

  it('Hono: a WebSocket from the page echoes through the policy; on reload a client gets a close frame 1001', async () => {
    const { page, violations } = await visit(browser, `${hono.url}/`)
    await page.locator('#echo', { hasText: 'echo: hello' }).waitFor({ timeout: 20_000 })
    expect(violations).toEqual([])
    // The close code as the browser reports it: 1006 (no clean close) if anything followed the
    // close frame, which Chromium checks and Node's client does not.
    const closed = page.evaluate(
      (url) =>
        new Promise<number>((done) => {
          const socket = new WebSocket(url)
          socket.addEventListener('close', (event) => done(event.code))
          // The page's global, not the DOM's: this file is type-checked for Node.
          socket.addEventListener('message', () => Object.assign(globalThis, { echoed: true }))
          socket.addEventListener('open', () => socket.send('from the test'))
        }),
      `${hono.url.replace('http', 'ws')}/ws`,
    )
    await page.waitForFunction(() => (globalThis as { echoed?: boolean }).echoed === true)
    process.kill(hono.child.pid as number, 'SIGHUP')
    expect(await closed).toBe(1001)
  })

  it('Hono: a streamed response arrives in its chunks, the first before the second is written', async () => {
    const answer = await fetch(`${hono.url}/stream`)
    const reader = (answer.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('first\n')
    let rest = ''
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value)
    expect(rest).toBe('second\n')
  })

  it('Hono: a Server-Sent Events stream outlives the request timeout, which bounds only its first byte', async () => {
    const short = await serveFixture(fixture('hono'), 'app.js', ['--timeout', '1s'])
    try {
      // Five events 600 ms apart: the whole stream lasts well past --timeout 1s.
      const body = await (await fetch(`${short.url}/sse-long`)).text()
      expect(body.match(/data: beat \d/g)).toEqual([
        'data: beat 1',
        'data: beat 2',
        'data: beat 3',
        'data: beat 4',
        'data: beat 5',
      ])
    } finally {
      await short.stop()
    }
  })

  it("NestJS: SIGTERM runs the app's shutdown hooks (OnModuleDestroy, OnApplicationShutdown) in each worker", async () => {
    const dir = tempDir()
    const hooks = join(dir.dir, 'hooks.log')
    const running = await serveFixture(fixture('nest'), 'dist/main.js', ['--workers', '2'], {
      NEST_HOOKS_FILE: hooks,
    })
    try {
      await running.waitForLog(
        () => running.logs.filter((line) => line.msg === 'worker ready').length >= 2,
        '2 workers',
      )
      running.child.kill('SIGTERM')
      expect(await running.exited).toBe(0)
      const lines = readFileSync(hooks, 'utf8').trim().split('\n').sort()
      expect(lines.map((line) => line.split(' ')[0])).toEqual(['destroy', 'destroy', 'shutdown', 'shutdown'])
    } finally {
      await running.stop()
      dir.remove()
    }
  })

  it('NestJS: the nonced page hydrates, the JSON route answers with the security headers', async () => {
    await expectHydrates(browser, `${nest.url}/`)
    const answer = await fetch(`${nest.url}/api/hello`)
    expect(await answer.json()).toEqual({ hello: 'nest' })
    expect(answer.headers.get('x-powered-by')).toBeNull()
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'")
  })
})
