/** How loadApp finds a framework's app: a project directory, a named `handler`, a promised default export. */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { serve } from '../_test/pipeline.js'
import { tempDir } from '../_test/temp.js'
import { securityMiddleware } from '../security/index.js'
import { loadApp } from './index.js'

describe('framework entries', () => {
  it('refuses a directory without a Next.js build, naming what it looked for', async () => {
    const site = tempDir({ 'package.json': '{}' })
    try {
      await expect(loadApp(site.dir, 'auto')).rejects.toMatchObject({
        code: 'SHIPSHAPE_E_APP_NOT_FOUND',
        message: expect.stringContaining('.next/BUILD_ID'),
      })
      await expect(loadApp(site.dir, 'express')).rejects.toMatchObject({ code: 'SHIPSHAPE_E_APP_KIND' })
    } finally {
      site.remove()
    }
  })

  it("serves a module's named `handler` export (SvelteKit's adapter-node) and a promised default export", async () => {
    const site = tempDir({
      'handler.mjs': "export const handler = (req, res) => res.end('handler ' + req.url)\n",
      'promised.mjs':
        "export default new Promise((done) => setTimeout(() => done((req, res) => res.end('promised')), 10))\n",
    })
    try {
      for (const [file, body] of [
        ['handler.mjs', 'handler /x'],
        ['promised.mjs', 'promised'],
      ]) {
        const server = await serve(`${site.dir}/${file}`)
        try {
          expect(await (await fetch(`${server.url}/x`)).text()).toBe(body)
        } finally {
          await server.close()
        }
      }
    } finally {
      site.remove()
    }
  })

  it('gives a SvelteKit page prerendered without a meta policy the hashes of its inline code, on its path only', async () => {
    const script = 'window.started = 1'
    const site = tempDir({
      'handler.mjs': "export const handler = (req, res) => res.end('page ' + req.url)\n",
      'prerendered/about.html': `<!doctype html><p style="color: red">x</p><script>${script}</script>`,
    })
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`
    const server = await serve(`${site.dir}/handler.mjs`, {}, [securityMiddleware({ httpsRedirect: 'off' })])
    try {
      const about = (await fetch(`${server.url}/about`)).headers.get('content-security-policy') ?? ''
      expect(about).toMatch(new RegExp(`script-src [^;]*${hash(script).replaceAll('+', '\\+')}`))
      expect(about).toContain(`'unsafe-hashes' ${hash('color: red')}`)
      expect(about).toContain("object-src 'none'") // shipshape's policy, merged in
      const other = (await fetch(`${server.url}/other`)).headers.get('content-security-policy') ?? ''
      expect(other).not.toContain('sha256-')
    } finally {
      await server.close()
      site.remove()
    }
  })

  it('refuses a React Router kind on a module that is not a server build', async () => {
    const site = tempDir({ 'app.mjs': 'export default (req, res) => res.end()\n' })
    try {
      await expect(loadApp(`${site.dir}/app.mjs`, 'react-router')).rejects.toMatchObject({
        code: 'SHIPSHAPE_E_APP_KIND',
        message: expect.stringContaining('React Router server build'),
      })
    } finally {
      site.remove()
    }
  })
})
