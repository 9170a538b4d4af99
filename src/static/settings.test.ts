/** staticUrl() in a process that serves no static files reads the static settings as `serve` does. */
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../_test/temp.js'
import { staticUrlIn as staticUrlInDir } from './_test/static-url.js'

const manifest = JSON.stringify({ version: 1, paths: { 'app.css': 'app.0123abcd.css' }, hashed: {} })

let temp: ReturnType<typeof tempDir>
afterEach(() => temp?.remove())

/** staticUrl(name) in a fresh Node process, run in the temp directory. */
const staticUrlIn = (name: string, env: Record<string, string> = {}) => staticUrlInDir(temp.dir, name, env)

describe('staticUrl() outside serve', () => {
  it('reads static.root and static.url from the config file, as serve does', () => {
    temp = tempDir({
      'shipshape.yaml': 'server:\n  workers: 2\nstatic:\n  root: build/static\n  url: /assets\n',
      'build/static/.shipshape-manifest.json': manifest,
    })
    expect(staticUrlIn('app.css')).toBe('/assets/app.0123abcd.css')
  })

  it('lets the environment win over the file, and names a bad static setting', () => {
    temp = tempDir({
      'shipshape.yaml': 'static:\n  url: /assets/\n',
      'staticfiles/.shipshape-manifest.json': manifest,
      '.env': 'SHIPSHAPE_STATIC_URL=https://cdn.example.com/s/\n',
    })
    expect(staticUrlIn('app.css')).toBe('https://cdn.example.com/s/app.0123abcd.css')
    expect(() => staticUrlIn('app.css', { SHIPSHAPE_STATIC_URL: 'no slash' })).toThrow(
      /static\.url from SHIPSHAPE_STATIC_URL: expected a path such as \/static\/, or an absolute https:\/\/ URL/,
    )
  })
})
