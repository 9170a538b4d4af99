/**
 * A real headless Chromium (Debian's, through playwright-core) with JavaScript off, against
 * `shipshape serve` with 2 workers on Postgres: signs in, enrols TOTP, signs out, cannot replay a
 * code, and is locked out; the strict CSP reports no violation on any auth page.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../_test/chromium.js'
import { type Running, ready, startServe } from '../_test/cli.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { admin } from './_test/admin-cli.js'
import { codeFor } from './_test/client.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
const password = 'correct horse battery staple'
let database: TestDatabase
let server: Running
let browser: Browser

beforeAll(async () => {
  database = await createTestDatabase('auth_browser')
  const env = { DATABASE_URL: database.url }
  const [created, started, launched] = await Promise.all([
    admin(['create', 'ops@example.com'], env, `${password}\n`),
    startServe([app, '--workers', '2', '--auth-protect', '/admin'], env),
    launchChromium(),
  ])
  expect(created.status).toBe(0)
  server = started
  browser = launched
  await ready(server, 2)
})
afterAll(async () => {
  await browser?.close()
  server?.child.kill('SIGTERM')
  await server?.exited
  await database?.drop()
})

async function signIn(page: Page, pass: string) {
  await page.fill('input[name=email]', 'ops@example.com')
  await page.fill('input[name=password]', pass)
  return Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]).then(
    ([response]) => response,
  )
}

async function submitCode(page: Page, code: string) {
  await page.fill('input[name=code]', code)
  const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')])
  return response
}

describe('the protected area in Chromium with JavaScript off', () => {
  it('signs in, enrols TOTP, signs out, refuses a replayed code, and locks out after 3 wrong passwords', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    const violations: string[] = []
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text())
    })
    await page.goto(`${server.url}/admin/account`)
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in')

    await signIn(page, password)
    expect(new URL(page.url()).pathname).toBe('/admin/enrol')
    expect(await page.locator('svg path').count()).toBe(1) // the QR code, inline
    expect((await page.locator('svg').boundingBox())?.width).toBeGreaterThan(100) // styled by the nonced stylesheet
    const secret = (await page.locator('code').textContent()) as string
    const enrolCode = await codeFor(secret)
    await submitCode(page, enrolCode)
    expect(await page.locator('h1').textContent()).toBe('Your recovery codes')
    expect(await page.locator('kbd').count()).toBe(10)
    await Promise.all([page.waitForNavigation(), page.click('text=Continue')])
    expect(await page.locator('#who').textContent()).toBe('ops@example.com')

    await Promise.all([page.waitForNavigation(), page.click('text=Sign out')])
    expect(await page.locator('.note').textContent()).toBe('You are signed out.')
    await page.goto(`${server.url}/admin/account`)
    await signIn(page, password)
    expect(new URL(page.url()).pathname).toBe('/admin/mfa')
    const replay = await submitCode(page, enrolCode)
    expect(replay?.status()).toBe(401)
    expect(await page.locator('.problem').textContent()).toMatch(/not valid/)
    await submitCode(page, await codeFor(secret, 1))
    expect(await page.locator('#who').textContent()).toBe('ops@example.com')
    await Promise.all([page.waitForNavigation(), page.click('text=Sign out')])

    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await signIn(page, `wrong password ${i}`))?.status())
    expect(statuses).toEqual([401, 401, 429])
    expect(await page.locator('.problem').textContent()).toMatch(
      /Too many failed attempts. Try again in 15 minutes/,
    )
    expect((await signIn(page, password))?.status()).toBe(429) // locked, the right password too
    expect(violations).toEqual([])
    await context.close()
  })
})
