/**
 * SvelteKit with adapter-node (`vite build`) under `shipshape serve build/handler.js`: SvelteKit
 * sends its own policy (kit csp, nonces for its inline scripts; a prerendered page's in its meta
 * tag) and shipshape merges its strict directives into it; build/client is served,
 * `_app/immutable/` for a year.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Running } from '../src/_test/cli.ts'
import { expectHydrates, fixture, launch, serveFixture } from './_harness.ts'

describe('SvelteKit under shipshape serve', () => {
  let running: Running
  let browser: Browser
  beforeAll(async () => {
    running = await serveFixture(fixture('sveltekit'), 'build/handler.js')
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await running?.stop()
  })

  it("merges shipshape's policy into SvelteKit's own: one header with SvelteKit's nonce and shipshape's directives", async () => {
    const answer = await fetch(`${running.url}/`)
    const policies = answer.headers.get('content-security-policy') ?? ''
    expect(policies).not.toContain(',')
    expect(policies).toMatch(/script-src 'self' 'nonce-[^']+'/)
    for (const directive of ["object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'", 'report-uri'])
      expect(policies).toContain(directive)
    const nonce = /'nonce-([^']+)'/.exec(policies)?.[1]
    expect(await answer.text()).toContain(`nonce="${nonce}"`)
  })

  it('hydrates with no CSP violation, its hashed assets immutable', async () => {
    const { responses } = await expectHydrates(browser, `${running.url}/`, '/_app/immutable/')
    const version = await fetch(`${running.url}/_app/version.json`)
    expect(version.headers.get('cache-control')).toBe('public, max-age=60')
    expect(responses.length).toBeGreaterThan(1)
  })

  it('a prerendered page hydrates too: its own policy, from its <meta> tag, is merged into the header', async () => {
    const answer = await fetch(`${running.url}/prerendered`)
    expect(answer.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-/)
    await expectHydrates(browser, `${running.url}/prerendered`)
  })

  it('streams a promise from load: the value replaces the fallback, still with no violation', async () => {
    const { page } = await expectHydrates(browser, `${running.url}/streamed`)
    await page.locator('#slow').waitFor({ timeout: 20_000 })
    expect(await page.locator('#slow').textContent()).toBe('streamed content')
  })
})
