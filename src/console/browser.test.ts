/**
 * Headless Chromium (Debian's, through playwright-core) with JavaScript off, against the demo
 * under the real `shipshape serve` on the embedded database, after it has produced an error, an
 * N+1 loop, a slow query, a failing check with its notification failing to send, and a silence:
 * signs in with TOTP, opens every console page, asserts what each shows, sees no CSP violation
 * and no console error, and takes a screenshot of each (docs/console/<page>.png with UPDATE_DOCS=1).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../_test/chromium.js'
import { type Running, ready, startServe } from '../_test/cli.js'
import { admin } from '../auth/_test/admin-cli.js'
import { codeFor } from '../auth/_test/client.js'
import { collectStatic } from '../static/collect.js'
import { password } from './_test/sign-in.js'

const demo = new URL('../../examples/demo/', import.meta.url).pathname
// The committed screenshots are rewritten only when asked (`UPDATE_DOCS=1 npx vitest run
// src/console/browser.test.ts`): a plain test run takes them into a directory of its own, so it
// leaves the working tree as it found it.
const shots = process.env.UPDATE_DOCS
  ? new URL('../../docs/console/', import.meta.url).pathname
  : mkdtempSync(join(tmpdir(), 'console-shots-'))
let server: Running
let browser: Browser
let context: BrowserContext
let page: Page
const problems: string[] = []

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'console-demo-'))
  // As `npm start` does: the Vite build, then collectstatic over it and the hand-written files.
  const staticRoot = join(dataDir, 'static')
  await build({ configFile: join(demo, 'frontend/vite.config.ts'), logLevel: 'warn' })
  await collectStatic({ sources: [join(demo, 'static')], output: staticRoot })
  // The demo's own checks, probed every 2 s instead of 30 s so the outage shows within the test.
  const config = join(dataDir, 'shipshape.yaml')
  writeFileSync(
    config,
    readFileSync(join(demo, 'shipshape.yaml'), 'utf8').replaceAll(
      'interval: 30s',
      'interval: 2s\n      timeout: 1s',
    ),
  )
  const env = {
    DEMO_DATA_DIR: dataDir,
    SHIPSHAPE_DB_EMBEDDED: 'true',
    SHIPSHAPE_DB_DATA_DIR: join(dataDir, 'db'),
    SHIPSHAPE_MONITOR_GROUP_WAIT: '1s',
    // A channel that refuses every notification: the history shows failed sends.
    SHIPSHAPE_MONITOR_WEBHOOK: 'http://127.0.0.1:9/alerts',
  }
  // Creating the user creates the embedded database too, before serve starts.
  expect((await admin(['create', 'ops@example.com'], env, `${password}\n`)).status).toBe(0)
  ;[server, browser] = await Promise.all([
    startServe(
      [
        join(demo, 'app.ts'),
        '--workers',
        '2',
        '--config',
        config,
        '--static-root',
        staticRoot,
        '--media-root',
        join(dataDir, 'media'),
        '--apm-rollup-interval',
        '2s',
        '--console-sample-interval',
        '1s',
      ],
      env,
    ),
    launchChromium(),
  ])
  await ready(server, 2)
  context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } })
  page = await context.newPage()
  // A failed resource is reported by its response, with its URL (the console only says "failed
  // to load resource"): every one but the favicon Chromium asks the demo for on its own.
  page.on('console', (message) => {
    const text = message.text()
    if (
      /Content Security Policy/i.test(text) ||
      (message.type() === 'error' && !text.startsWith('Failed to load resource'))
    )
      problems.push(`${page.url()}: ${text}`)
  })
  page.on('response', (response) => {
    if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico')
      problems.push(`${response.url()}: ${response.status()}`)
  })
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`))
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

/** What a visitor does to the demo so the console has something to show. */
async function useTheDemo(): Promise<void> {
  const post = (path: string, body: Record<string, string>) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams(body),
      redirect: 'manual',
    })
  for (const name of ['Ada', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances'])
    expect((await post('/guestbook', { name, message: `hello from ${name}` })).status).toBe(303)
  for (let i = 0; i < 3; i++) expect((await post('/boom', {})).status).toBe(500)
  for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/guestbook/signers`)).status).toBe(200)
  // Three times: each worker's APM captures a slow query's call site from its second run on, and
  // of three requests to two workers, one worker has two.
  for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/guestbook/search?q=hello`)).status).toBe(200)
  expect((await fetch(`${server.url}/api/status`)).status).toBe(200)
}

async function go(path: string): Promise<void> {
  const response = await page.goto(`${server.url}/_shipshape${path}`)
  expect(response?.status(), path).toBe(200)
}

/** Reloads `path` until it shows `text` (data arrives with the next rollup, probe or sample). */
async function showing(path: string, text: RegExp, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    await go(path)
    if (text.test(await page.locator('main').innerText())) return
    if (Date.now() > deadline)
      throw new Error(`${path} never showed ${text}:\n${await page.locator('main').innerText()}`)
    await new Promise((wait) => setTimeout(wait, 500))
  }
}

async function shoot(name: string): Promise<void> {
  mkdirSync(shots, { recursive: true })
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
}

const submit = (form = 'main form') =>
  Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)])

describe("the demo's ops console in Chromium with JavaScript off", () => {
  it('signs in with TOTP and shows every page, under the strict CSP', async () => {
    await useTheDemo()
    await page.goto(`${server.url}/_shipshape/`)
    expect(new URL(page.url()).pathname).toBe('/_shipshape/sign-in')
    await page.fill('input[name=email]', 'ops@example.com')
    await page.fill('input[name=password]', password)
    await submit()
    expect(new URL(page.url()).pathname).toBe('/_shipshape/enrol')
    const secret = (await page.locator('code').textContent()) as string
    await page.fill('input[name=code]', await codeFor(secret))
    await submit()
    expect(await page.locator('h1').textContent()).toBe('Your recovery codes')
    await Promise.all([page.waitForNavigation(), page.click('text=Continue')])
    expect(await page.locator('h1').textContent()).toBe('Overview')

    // Uptime: the partner API's outage, then a silence made here, and the failed notification.
    await showing('/uptime', /Notifications[\s\S]*CheckFailing[\s\S]*webhook\s+failed/)
    await page.selectOption('select[name=check]', 'partner-api')
    await page.fill('input[name=comment]', 'the partner knows')
    await submit('form[action$="/uptime/silences"]')
    expect(new URL(page.url()).pathname).toBe('/_shipshape/uptime')
    const uptime = await page.locator('main').innerText()
    expect(uptime).toMatch(/check=partner-api\s+.*the partner knows \(by ops@example.com\)/)
    expect(uptime).toMatch(/Incidents, last 7 days[\s\S]*partner-api/)
    expect(uptime).toMatch(/home\s+\/\s+server-\S+\s+up/)
    await shoot('uptime')

    await showing('/', /Down\s+failing: partner-api/)
    const overview = await page.locator('main').innerText()
    expect(overview).toMatch(/Error rate, last hour/)
    expect(overview).toMatch(/p95 latency, last hour/)
    expect(overview).toMatch(/Open alerts[\s\S]*check failing partner-api/)
    expect(await page.locator('svg.chart').count()).toBe(2)
    await shoot('overview')

    await showing('/errors', /the demo's error button was pressed/)
    expect(await page.locator('main').innerText()).toMatch(/unresolved\s+3/)
    expect(await page.locator('svg.spark').count()).toBeGreaterThan(0)
    await shoot('errors')
    await Promise.all([page.waitForNavigation(), page.click("text=the demo's error button was pressed")])
    const issue = await page.locator('main').innerText()
    expect(issue).toMatch(/Stack\s+Error: the demo's error button was pressed/)
    expect(issue).toMatch(/examples\/demo\/app\.ts/)
    expect(issue).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/boom/)
    expect(issue).toContain('Request bodies are never stored.')
    // The demo tags each press with its client and logs it: three presses from this test's fetch.
    expect(issue).toMatch(/Tags\s+Tag\s+Value\s+Events\s+Share[\s\S]*client\s+script\s+3\s+100%/)
    expect(issue).toMatch(/Log lines[\s\S]*the error button was pressed\s+client="script"/)
    await shoot('issue')
    await submit('form[action$="/resolve"]')
    expect(await page.locator('main').innerText()).toMatch(/^resolved · 3 events/m)

    await showing('/endpoints', /GET \/guestbook\/signers/)
    expect(await page.locator('main').innerText()).toMatch(/GET \/guestbook\/search/)
    await shoot('endpoints')
    await Promise.all([page.waitForNavigation(), page.click('text=GET /guestbook/search')])
    const route = await page.locator('main').innerText()
    expect(route).toMatch(/Slow requests\s+When[\s\S]*pg_sleep/)
    expect(route).toMatch(/Slow queries[\s\S]*examples\/demo\/guestbook\.ts/)
    await shoot('route')

    await showing('/database', /Plan \(generic/)
    const database = await page.locator('main').innerText()
    expect(database).toMatch(
      /N\+1 loops[\s\S]*select count\(\*\)::int as n from guestbook where name = \?[\s\S]*examples\/demo\/guestbook\.ts/,
    )
    expect(database).toMatch(/Slow queries[\s\S]*pg_sleep/)
    expect(database).toMatch(/Connections open \(this worker\)/)
    await shoot('database')

    await showing('/servers', /samples in 24 h/)
    expect(await page.locator('svg.chart').count()).toBe(4)
    expect(await page.locator('main').innerText()).toMatch(/2 workers/)
    await shoot('servers')

    await go('/deploy')
    const deploy = await page.locator('main').innerText()
    expect(deploy).toMatch(/check --deploy\s+\d+ failing/)
    expect(deploy).toMatch(/Observatory grade\s+[A-F][+-]?\s/)
    expect(deploy).toMatch(/failed\s+\w+\s+.+/)
    expect(deploy).toMatch(/audit/)
    await shoot('deploy')

    expect(problems).toEqual([])
  })
})
