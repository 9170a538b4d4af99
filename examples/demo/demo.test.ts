/** The demo as `npm start` runs it: under the real `shipshape serve`, in production mode. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, ready, startServe } from '../../src/server/_test/harness.ts'

const entry = new URL('./app.ts', import.meta.url).pathname
let server: Running

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'demo-data-'))
  server = await startServe([entry, '--workers', '2'], { DEMO_DATA_DIR: dataDir })
  await ready(server, 2)
})
afterAll(() => server.stop())

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
})

describe('the demo under shipshape serve', () => {
  it('renders its home page, with a request id and no framework banner', async () => {
    const response = await fetch(`${server.url}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.headers.get('x-powered-by')).toBeNull()
    expect(await response.text()).toContain('shipshape demo')
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
})
