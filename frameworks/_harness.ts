/**
 * The frameworks suite's harness: installs and builds each fixture app once (cached by a hash of
 * its sources and lockfile), starts it under the real `shipshape serve` with the default settings,
 * and drives Debian's Chromium through playwright-core to see it hydrate under the policy.
 */
import type { Browser, Page } from 'playwright-core'
import { expect } from 'vitest'
import { type Running, startServe } from '../src/_test/cli.ts'

export { chromiumPath, launchChromium as launch } from '../src/_test/chromium.ts'
export { fixture } from './_fixtures.ts'

/** `shipshape serve <app>` in the fixture's directory, with no setting but a free port; resolves once a worker is ready. */
export async function serveFixture(
  dir: string,
  app: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Running> {
  const running = await startServe([app, ...args], env, undefined, { cwd: dir })
  await running.waitForLog((line) => line.msg === 'worker ready', 'worker ready', 60_000)
  return running
}

export interface Visit {
  page: Page
  /** CSP violations, from the page's securitypolicyviolation events and the console. */
  violations: string[]
  /** Every response the page loaded: URL, status, Cache-Control. */
  responses: { url: string; status: number; cacheControl: string | undefined }[]
}

/** Opens `url` in a fresh context and records every CSP violation and response. */
export async function visit(browser: Browser, url: string): Promise<Visit> {
  const context = await browser.newContext()
  const page = await context.newPage()
  const violations: string[] = []
  const responses: Visit['responses'] = []
  await page.exposeFunction('__shipshapeViolation', (text: string) => violations.push(text))
  // A string, not a function: this file is type-checked for Node, without the DOM's types.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
    window.__shipshapeViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.sample + ')'))`)
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text())
  })
  page.on('response', (response) => {
    responses.push({
      url: response.url(),
      status: response.status(),
      cacheControl: response.headers()['cache-control'],
    })
  })
  await page.goto(url, { waitUntil: 'load' })
  return { page, violations, responses }
}

/** Hydrated: a click on `selector` changes its text from `before` to `after`. */
export async function clickChanges(
  page: Page,
  selector: string,
  before: string,
  after: string,
): Promise<void> {
  const button = page.locator(selector)
  await button.filter({ hasText: before }).waitFor({ timeout: 20_000 })
  // Until hydration a click does nothing: retried until the app's handler answers.
  for (let tries = 0; tries < 100; tries++) {
    await button.click()
    if (((await button.textContent()) ?? '').includes(after)) return
    await page.waitForTimeout(100)
  }
  throw new Error(`${selector} never showed "${after}": the page did not hydrate`)
}

const immutable = 'public, max-age=31536000, immutable'

/**
 * Opens `path`, clicks the counter until hydrated, and expects no CSP violation and every
 * script or stylesheet the page loaded from `hashedPrefix` to be cached for a year.
 */
export async function expectHydrates(browser: Browser, url: string, hashedPrefix?: string): Promise<Visit> {
  const seen = await visit(browser, url)
  await clickChanges(seen.page, '#counter', 'count 0', 'count 1')
  expect(seen.violations).toEqual([])
  if (hashedPrefix !== undefined) {
    const assets = seen.responses.filter((response) =>
      new URL(response.url).pathname.startsWith(hashedPrefix),
    )
    expect(assets.length).toBeGreaterThan(0)
    for (const asset of assets)
      expect([asset.url, asset.status, asset.cacheControl]).toEqual([asset.url, 200, immutable])
  }
  return seen
}
