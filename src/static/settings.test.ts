/** staticUrl() in a process that serves no static files reads the static settings as `serve` does. */
import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../config/_test/temp.js'

const staticIndex = new URL('../../dist/static/index.js', import.meta.url).pathname
const manifest = JSON.stringify({ version: 1, paths: { 'app.css': 'app.0123abcd.css' }, hashed: {} })

let temp: ReturnType<typeof tempDir>
afterEach(() => temp?.remove())

/** staticUrl(name) in a fresh Node process (no middleware in it), run in the temp directory. */
function staticUrlIn(name: string, env: Record<string, string> = {}): string {
  const script = `const { staticUrl } = await import(${JSON.stringify(staticIndex)}); process.stdout.write(staticUrl(${JSON.stringify(name)}))`
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: temp.dir,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

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
