/**
 * A framework's browser files, found from the app `shipshape serve` runs and served from memory:
 * content-hashed names for a year, the rest revalidated, everything else left to the app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, startServe } from '../_test/cli.js'
import { tempDir } from '../_test/temp.js'

describe("SvelteKit's build/client beside build/handler.js", () => {
  const site = tempDir({
    'build/handler.js': "export const handler = (req, res) => res.end('app ' + req.url)\n",
    'build/client/_app/immutable/entry/start.BR4RNbzU.js': 'console.log(1)\n',
    'build/client/_app/version.json': '{"version":"1"}\n',
    'build/client/favicon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
  })
  let running: Running
  beforeAll(async () => {
    running = await startServe(['build/handler.js', '--workers', '1'], {}, undefined, { cwd: site.dir })
    await running.waitForLog((line) => line.msg === 'worker ready', 'worker ready')
  })
  afterAll(async () => {
    await running?.stop()
    site.remove()
  })

  it('serves _app/immutable/ as immutable, other files for --static-max-age, and the rest from the app', async () => {
    const hashed = await fetch(`${running.url}/_app/immutable/entry/start.BR4RNbzU.js`)
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await hashed.text()).toBe('console.log(1)\n')
    expect(hashed.headers.get('x-content-type-options')).toBe('nosniff')
    for (const path of ['/_app/version.json', '/favicon.svg'])
      expect((await fetch(`${running.url}${path}`)).headers.get('cache-control')).toBe('public, max-age=60')
    expect(await (await fetch(`${running.url}/about`)).text()).toBe('app /about')
  })
})

describe("React Router's build/client beside build/server/index.js", () => {
  const site = tempDir({
    'build/server/index.js': 'export default (req, res) => res.end(`app ${req.url}`)\n',
    'build/client/assets/entry.client-DJFsR9Qr.js': 'console.log(2)\n',
    'build/client/robots.txt': 'User-agent: *\n',
  })
  let running: Running
  beforeAll(async () => {
    running = await startServe(['build/server/index.js', '--workers', '1'], {}, undefined, { cwd: site.dir })
    await running.waitForLog((line) => line.msg === 'worker ready', 'worker ready')
  })
  afterAll(async () => {
    await running?.stop()
    site.remove()
  })

  it('serves assets/ as immutable and the rest revalidated', async () => {
    const hashed = await fetch(`${running.url}/assets/entry.client-DJFsR9Qr.js`)
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    const robots = await fetch(`${running.url}/robots.txt`)
    expect(robots.headers.get('cache-control')).toBe('public, max-age=60')
    expect(await (await fetch(`${running.url}/`)).text()).toBe('app /')
  })
})
