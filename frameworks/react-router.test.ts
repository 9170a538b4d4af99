/**
 * React Router in framework mode (`react-router build`) under `shipshape serve
 * build/server/index.js`: entry.server passes cspNonce() to <ServerRouter nonce> and React's
 * renderer; build/client is served, Vite's hashed `assets/` for a year.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Running } from '../src/_test/cli.ts'
import { expectHydrates, fixture, launch, serveFixture } from './_harness.ts'

describe('React Router under shipshape serve', () => {
  let running: Running
  let browser: Browser
  beforeAll(async () => {
    running = await serveFixture(fixture('react-router'), 'build/server/index.js')
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await running?.stop()
  })

  it('hydrates with no CSP violation, streams deferred loader data, its hashed assets immutable', async () => {
    const { page } = await expectHydrates(browser, `${running.url}/`, '/assets/')
    await page.locator('#slow').waitFor({ timeout: 20_000 })
    expect(await page.locator('#fallback').count()).toBe(0)
  })

  it('answers a resource route', async () => {
    const answer = await fetch(`${running.url}/api/hello`)
    expect(await answer.json()).toEqual({ hello: 'react-router' })
  })
})
