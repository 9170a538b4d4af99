/**
 * Next.js (app router, `next build` with the defaults) under `shipshape serve <project dir>`:
 * the prerendered page runs on hashes, the dynamic one on the nonce Next read from the request,
 * both hydrate with no CSP violation; .next/static is immutable, public/ revalidated.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Running } from '../src/_test/cli.ts'
import { clickChanges, fixture, launch, serveFixture, visit } from './_harness.ts'

describe('Next.js under shipshape serve', () => {
  let running: Running
  let browser: Browser
  beforeAll(async () => {
    const dir = fixture('next')
    running = await serveFixture(dir, '.')
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await running?.stop()
  })

  it('hydrates a prerendered page with no CSP violation, on hashes of its inline scripts', async () => {
    const { page, violations, responses } = await visit(browser, `${running.url}/`)
    await clickChanges(page, '#counter', 'count 0', 'count 1')
    expect(violations).toEqual([])
    const csp = responses.find((response) => response.url === `${running.url}/`)
    expect(csp?.status).toBe(200)
    const chunks = responses.filter((response) => response.url.includes('/_next/static/'))
    expect(chunks.length).toBeGreaterThan(0)
    for (const chunk of chunks) {
      expect(chunk.status).toBe(200)
      expect(chunk.cacheControl).toBe('public, max-age=31536000, immutable')
    }
    expect(responses.find((response) => response.url.endsWith('/logo.svg'))?.cacheControl).toBe(
      'public, max-age=60',
    )
  })

  it('streams a dynamic page whose scripts carry the nonce Next read from the request', async () => {
    const answer = await fetch(`${running.url}/streamed`)
    const policy = answer.headers.get('content-security-policy') ?? ''
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1]
    expect(nonce).toBeDefined()
    const html = await answer.text()
    expect(html).toContain(`nonce="${nonce}"`)
    expect(html).toContain('streamed content')

    const { page, violations } = await visit(browser, `${running.url}/streamed`)
    await page.locator('#slow').waitFor({ timeout: 20_000 })
    expect(await page.locator('#fallback').count()).toBe(0)
    await clickChanges(page, '#counter', 'count 0', 'count 1')
    expect(violations).toEqual([])
  })

  it('answers an API route, with the security headers', async () => {
    const answer = await fetch(`${running.url}/api/hello`)
    expect(await answer.json()).toEqual({ hello: 'next' })
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
    const policy = answer.headers.get('content-security-policy') ?? ''
    expect(policy).toContain("default-src 'self'")
    // A route handler renders no page: neither a nonce nor the not-found page's hashes.
    expect(policy).not.toContain("'nonce-")
    expect(policy).not.toContain("'sha256-")
  })

  it('answers an unknown path with its prerendered 404 page, under the policy', async () => {
    const { page, violations, responses } = await visit(browser, `${running.url}/no-such-page`)
    expect(responses[0]?.status).toBe(404)
    await page.waitForLoadState('networkidle')
    expect(violations).toEqual([])
  })
})
