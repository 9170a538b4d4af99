/** How loadApp finds a framework's app: a project directory, a named `handler`, a promised default export. */
import { describe, expect, it } from 'vitest'
import { serve } from '../_test/pipeline.js'
import { tempDir } from '../_test/temp.js'
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
