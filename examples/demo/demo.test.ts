/** The demo as `npm start` runs it: under the real `shipshape serve`, in production mode. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launch, visit } from '../../frameworks/_harness.ts'
import { type Running, ready, startServe } from '../../src/_test/cli.js'
import { admin } from '../../src/auth/_test/admin-cli.js'
import { codeFor, FormClient, secretOn } from '../../src/auth/_test/client.js'
import { embeddedTarget } from '../../src/db/_test/targets.js'
import { httpReceiver } from '../../src/observe/_test/receivers.js'
import { collectStatic } from '../../src/static/collect.ts'

const entry = new URL('./app.ts', import.meta.url).pathname
let server: Running
let databaseDir: string
/** The notification webhook the demo's server posts to. */
let hook: Awaited<ReturnType<typeof httpReceiver>>

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'demo-data-'))
  // As `npm start` does: the Vite build, then collectstatic over it and the hand-written files.
  const staticRoot = mkdtempSync(join(tmpdir(), 'demo-static-'))
  await build({ configFile: new URL('./frontend/vite.config.ts', import.meta.url).pathname })
  await collectStatic({ sources: [new URL('./static', import.meta.url).pathname], output: staticRoot })
  const mediaRoot = mkdtempSync(join(tmpdir(), 'demo-media-'))
  // The guestbook's embedded database, created beforehand: that takes longer than the harness
  // waits for serve to listen.
  databaseDir = join(dataDir, 'db')
  await (await embeddedTarget({ dataDir: databaseDir, socketDir: join(dataDir, 'init') })).supervisor?.stop()
  hook = await httpReceiver()
  server = await startServe(
    [
      entry,
      '--workers',
      '2',
      '--static-root',
      staticRoot,
      '--media-root',
      mediaRoot,
      '--db-data-dir',
      databaseDir,
      // As npm start runs it: the pages' @sentry/browser reports to this key.
      '--ingest-keys',
      'demo_frontend_errors',
      '--notify-webhook',
      hook.url,
    ],
    {
      DEMO_DATA_DIR: dataDir,
      SHIPSHAPE_DB_EMBEDDED: 'true',
      // Production's N+1 floor (150 ms in all) would hide the signers page's loop on a fast
      // machine: the test reports every N+1, as development does.
      SHIPSHAPE_APM_N_PLUS_ONE_FLOOR: '0',
    },
  )
  await ready(server, 2)
})
afterAll(async () => {
  await server.stop()
  await hook.close()
})

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
})

describe('the demo under shipshape serve', () => {
  it('groups the error button’s errors into one issue stored in the embedded database', async () => {
    const press = () =>
      fetch(`${server.url}/boom`, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } })
    const replies = [await press(), await press(), await press()]
    expect(replies.map((reply) => reply.status)).toEqual([500, 500, 500])
    await server.waitForLog(
      () => server.logs.filter((line) => line.msg === 'the app failed to handle the request').length >= 3,
      'three error lines',
    )
    const lines = server.logs.filter((line) => line.msg === 'the app failed to handle the request')
    expect(new Set(lines.map((line) => line.issue)).size).toBe(1)
    expect(lines[0]?.err).toMatchObject({ message: expect.stringContaining("the demo's error button") })
    // Stored: a failed write would be logged by the tracker right after, and a worker's lines
    // reach stdout within a second.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(server.logs.filter((line) => String(line.msg).startsWith('error tracking'))).toEqual([])
    // One issue, one notification: the other presses are counted, not notified.
    const titles = hook.bodies.map((body) => (body as { title: string }).title)
    expect(titles.filter((title) => title.includes("the demo's error button"))).toHaveLength(1)
  })

  it('reports a front-end error through @sentry/browser to its own envelope endpoint, grouped, under the strict CSP', async () => {
    const browser = await launch()
    try {
      const recorded = () => server.logs.filter((line) => line.msg.startsWith('sentry recorded as issue'))
      for (const press of [1, 2]) {
        const seen = await visit(browser, `${server.url}/`)
        const envelope = seen.page.waitForResponse((response) => response.url().includes('/envelope/'))
        await seen.page.click('button[data-throws]')
        expect((await envelope).status()).toBe(200)
        await server.waitForLog(() => recorded().length === press, `front-end error ${press} recorded`)
        expect(seen.violations).toEqual([])
        // The SDK came with the page's own script, from this origin: no CDN.
        expect(seen.responses.every((response) => response.url.startsWith(server.url))).toBe(true)
        await seen.page.context().close()
      }
      const [first, second] = recorded()
      expect(first?.issue).toEqual(second?.issue)
    } finally {
      await browser.close()
    }
  })

  it('has an /admin area: sign-in, TOTP enrolment at the first sign-in, then the page, for a user made with `shipshape admin create`', async () => {
    const env = { SHIPSHAPE_DB_EMBEDDED: 'true', SHIPSHAPE_DB_DATA_DIR: databaseDir }
    expect((await admin(['create', 'demo@example.com'], env, 'correct horse battery staple\n')).status).toBe(
      0,
    )
    const browser = new FormClient(server.url)
    expect((await browser.get('/admin')).headers.location).toBe('/admin/sign-in?next=%2Fadmin')
    const signIn = await browser.post('/admin/sign-in', {
      email: 'demo@example.com',
      password: 'correct horse battery staple',
    })
    expect(signIn.headers.location).toBe('/admin/enrol?next=%2Fadmin')
    const secret = secretOn(await browser.get('/admin/enrol'))
    expect((await browser.post('/admin/enrol', { code: await codeFor(secret) })).status).toBe(200)
    expect((await browser.get('/admin')).body).toContain(
      'Signed in as <strong>demo@example.com</strong> with two-factor authentication',
    )
  })

  it('renders its home page, with a request id and no framework banner', async () => {
    const response = await fetch(`${server.url}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.headers.get('x-powered-by')).toBeNull()
    expect(await response.text()).toContain('shipshape demo')
  })

  it('marks its home page cacheable by a CDN, with a purge tag, and renders the cached navigation', async () => {
    const home = await fetch(`${server.url}/`)
    expect(home.headers.get('cache-control')).toBe(
      'public, max-age=0, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400',
    )
    expect(home.headers.get('cdn-cache-control')).toBe(
      'max-age=300, stale-while-revalidate=60, stale-if-error=86400',
    )
    expect(home.headers.get('surrogate-key')).toBe('home')
    expect(home.headers.get('cache-tag')).toBe('home')
    const nav = '<nav><a href="/">Home</a> <a href="/guestbook">Guestbook</a>'
    expect(await home.text()).toContain(nav)
    // Other pages share the fragment, without the home page's CDN headers.
    const guestbook = await fetch(`${server.url}/guestbook`)
    expect(await guestbook.text()).toContain(nav)
    expect(guestbook.headers.get('surrogate-key')).toBeNull()
  })

  it('takes a guestbook entry, redirects after the post, and shows it escaped to every worker', async () => {
    const posted = await fetch(
      `${server.url}/guestbook`,
      form({ name: 'Ada <b>', message: 'Hello from a test' }),
    )
    expect(posted.status).toBe(303)
    expect(posted.headers.get('location')).toBe('/guestbook')
    for (let i = 0; i < 4; i++) {
      const page = await (await fetch(`${server.url}/guestbook`)).text()
      expect(page).toContain('Ada &lt;b&gt;')
      expect(page).not.toContain('Ada <b>')
    }
  })

  it('answers an invalid entry with 422 and the form again, keeping what was typed', async () => {
    const response = await fetch(`${server.url}/guestbook`, form({ name: '', message: 'kept text' }))
    expect(response.status).toBe(422)
    expect(await response.text()).toContain('kept text')
  })

  it('serves JSON status from a worker, and a 404 page for unknown paths', async () => {
    const status = (await (await fetch(`${server.url}/api/status`)).json()) as { worker: number }
    expect(status).toMatchObject({ status: 'ok', site: 'shipshape demo' })
    expect(status.worker).not.toBe(server.child.pid)
    expect((await fetch(`${server.url}/nope`)).status).toBe(404)
  })

  it('links its assets by their hashed names, served compressed and immutable', async () => {
    const page = await (await fetch(`${server.url}/`)).text()
    const links = [...page.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g)].map((match) => match[1] as string)
    expect(links).toHaveLength(4)
    expect(links.some((link) => /^\/static\/build\/assets\/main-[\w-]{8}\.js$/.test(link))).toBe(true)
    expect(links.some((link) => /^\/static\/css\/print\.[0-9a-f]{12}\.css$/.test(link))).toBe(true)
    for (const link of links) {
      const response = await fetch(`${server.url}${link}`, { headers: { 'accept-encoding': 'br, gzip' } })
      expect(response.status, link).toBe(200)
      expect(response.headers.get('cache-control'), link).toBe('public, max-age=31536000, immutable')
      expect(response.headers.get('vary'), link).toBe('Accept-Encoding')
      await response.arrayBuffer()
    }
    expect((await fetch(`${server.url}/static/build/.vite/manifest.json`)).status).toBe(404)
  })

  it('runs under the strict Content-Security-Policy: nothing inline without the nonce, no data: URLs', async () => {
    for (const path of ['/', '/guestbook']) {
      const response = await fetch(`${server.url}${path}`)
      const csp = response.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'self'")
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1]
      const page = await response.text()
      for (const [tag] of page.matchAll(/<(?:script|style)\b[^>]*>/g)) {
        expect(/\ssrc="\/static\//.test(tag) || tag.includes(`nonce="${nonce}"`), tag).toBe(true)
      }
      expect(page).not.toMatch(/\sstyle="|\son[a-z]+="|javascript:/i)
    }
    const page = await (await fetch(`${server.url}/`)).text()
    for (const [, link] of page.matchAll(/(?:href|src)="(\/static\/[^"]+\.(?:css|js))"/g)) {
      expect(await (await fetch(`${server.url}${link}`)).text(), link).not.toMatch(/url\(\s*["']?data:/)
    }
  })

  it('has a deliberate N+1 page, which the APM reports with the line of the demo that loops', async () => {
    for (const name of ['Ada', 'Brian', 'Claude', 'Dennis', 'Edsger']) {
      const posted = await fetch(`${server.url}/guestbook`, form({ name, message: `hello from ${name}` }))
      expect(posted.status).toBe(303)
    }
    const page = await fetch(`${server.url}/guestbook/signers`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<strong>Edsger</strong>: 1')
    const report = await server.waitForLog(
      (line) => line.msg.startsWith('N+1 queries') && line.route === '/guestbook/signers',
      'the N+1 report of the signers page',
    )
    expect(report.fingerprint).toBe('select count(*)::int as n from guestbook where name = ?')
    expect(report.count).toBeGreaterThanOrEqual(5)
    expect(report.callSite).toMatch(/examples\/demo\/guestbook\.ts:\d+:\d+ \(.*signers\)/)
    const access = await server.waitForLog(
      (line) => line.msg === 'request' && line.route === '/guestbook/signers',
      'the access line of the signers page',
    )
    // The names, then one count per name (and the worker's CREATE TABLE IF NOT EXISTS, once).
    expect(access.dbQueries).toBeGreaterThanOrEqual((report.count as number) + 1)
  })

  it('refuses a guestbook post forged by another site, and takes one from its own form', async () => {
    const post = (headers: Record<string, string>, body = 'name=Eve&message=forged') =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          `${server.url}/guestbook`,
          { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } },
          (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          },
        )
        req.on('error', reject)
        req.end(body)
      })
    const cookie = 'session=signed-in'
    expect(await post({ cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' })).toBe(403)
    expect(await post({ cookie, origin: 'https://evil.example' })).toBe(403)
    expect(await post({ cookie })).toBe(403) // an old browser without the form's token
    expect(await post({ cookie, 'sec-fetch-site': 'same-origin' })).toBe(303)
    // The old-browser path: the token from the form, matching its cookie.
    const form = await fetch(`${server.url}/guestbook`)
    const token = /name="csrf_token" value="([^"]+)"/.exec(await form.text())?.[1] as string
    const tokenCookie = (form.headers.get('set-cookie') ?? '').split(';')[0] as string
    expect(
      await post({ cookie: `${cookie}; ${tokenCookie}` }, `name=Old&message=browser&csrf_token=${token}`),
    ).toBe(303)
  })

  it('takes an avatar into public media, typed by its bytes, and refuses what is not an image', async () => {
    const first = await fetch(`${server.url}/profile`)
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string
    expect(cookie).toMatch(/^demo_visitor=[0-9a-f-]{36}$/)
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    )
    const upload = (data: Buffer, name: string, type: string) => {
      const body = new FormData()
      body.append('avatar', new Blob([data], { type }), name)
      return fetch(`${server.url}/profile/avatar`, {
        method: 'POST',
        body,
        headers: { cookie, 'sec-fetch-site': 'same-origin' },
        redirect: 'manual',
      })
    }
    const posted = await upload(png, 'evil.html', 'text/html')
    expect(posted.status).toBe(303)
    const page = await (await fetch(`${server.url}/profile`, { headers: { cookie } })).text()
    const src = /<img src="([^"]+)"/.exec(page)?.[1] as string
    expect(src).toMatch(/^\/media\/public\/avatars\/[0-9a-f-]{36}\/evil-[a-z0-9]{8}\.png$/)
    for (let i = 0; i < 4; i++) {
      const image = await fetch(`${server.url}${src}`)
      expect(image.status).toBe(200)
      expect(image.headers.get('content-type')).toBe('image/png')
      expect(image.headers.get('x-content-type-options')).toBe('nosniff')
      expect(Buffer.from(await image.arrayBuffer())).toEqual(png)
    }
    expect((await upload(Buffer.from('<script>alert(1)</script>'), 'a.png', 'image/png')).status).toBe(422)
    expect((await upload(Buffer.alloc(3_000_000), 'big.png', 'image/png')).status).toBe(413)
  })

  it('hands each visitor a private report through a signed link that lasts 5 minutes', async () => {
    const cookie = `demo_visitor=${crypto.randomUUID()}`
    const made = await fetch(`${server.url}/profile/report`, {
      method: 'POST',
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
      redirect: 'manual',
    })
    expect(made.status).toBe(303)
    const link = made.headers.get('location') as string
    const url = new URL(link, server.url)
    expect(url.pathname).toBe(`/media/private/reports/${cookie.split('=')[1]}/report.csv`)
    const lifetime = Number(url.searchParams.get('expires')) - Date.now() / 1000
    expect(lifetime).toBeGreaterThan(290)
    expect(lifetime).toBeLessThanOrEqual(300)
    const report = await fetch(url)
    expect(report.status).toBe(200)
    // RFC 6266 quotes the name only when it must (jshttp's content-disposition writes it).
    expect(report.headers.get('content-disposition')).toBe('attachment; filename=report.csv')
    expect(await report.text()).toContain(cookie.split('=')[1])
    expect((await fetch(`${server.url}${url.pathname}`)).status).toBe(403)
    url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600))
    expect((await fetch(url)).status).toBe(403)
  })
})

describe('npm start', () => {
  it('stops gracefully when npm itself gets SIGTERM, as `docker stop` sends it', async () => {
    // npm passes a signal on only to the shell that runs the script. Without `exec` in the start
    // script that shell would exit and leave the server running, until a SIGKILL cut its requests.
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm']
    const started = await startServe(
      // A later --static-root wins: the test does not depend on `npm run demo:assets` having run.
      ['--workers', '1', '--static-root', mkdtempSync(join(tmpdir(), 'demo-static-'))],
      { DEMO_DATA_DIR: mkdtempSync(join(tmpdir(), 'demo-data-')) },
      [...(npm as [string, ...string[]]), 'start', '--ignore-scripts', '--silent', '--'],
    )
    await ready(started, 1)
    const primary = Number(readFileSync(started.pidfile, 'utf8'))
    try {
      started.child.kill('SIGTERM')
      await started.waitForLog((line) => line.msg === 'stopped', 'stopped')
      await started.exited
      expect(() => process.kill(primary, 0)).toThrow() // no server left behind
      expect(existsSync(started.pidfile)).toBe(false)
    } finally {
      await started.stop()
      if (existsSync(started.pidfile)) process.kill(primary, 'SIGKILL') // the orphan, when this fails
    }
  })
})
