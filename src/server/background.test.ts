/** App code that runs outside a request in a worker (a timer, a queue consumer) gets serve's settings too. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, type Running, ready, sleep, startServe } from '../_test/cli.js'
import { fixture } from './_test/fixtures.js'

let server: Running | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

describe('a worker outside a request', () => {
  it('writes media where serve keeps it and links to the allowed host, not to the defaults', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'serve-background-'))
    const mediaRoot = join(cwd, 'uploads')
    server = await startServe(
      [
        fixture('background.ts'),
        '--workers',
        '1',
        '--media-root',
        mediaRoot,
        '--allowed-hosts',
        'shop.example.com,127.0.0.1',
      ],
      {},
      undefined,
      {
        cwd,
      },
    )
    await ready(server, 1)
    expect((await get(`${server.url}/?key=report.txt`)).body).toBe('queued\n')
    let stored: string[] = []
    for (let tries = 0; stored.length === 0 && tries < 100; tries++) {
      await sleep(50)
      stored = JSON.parse((await get(`${server.url}/stored`)).body)
    }
    const key = stored[0] as string
    expect(key).toMatch(/^report.*\.txt$/)
    const served = await get(`${server.url}/media/public/${key}`)
    expect(served.status).toBe(200)
    expect(served.body).toBe('written by a timer for https://shop.example.com/\n')
    expect(readFileSync(join(mediaRoot, 'public', key), 'utf8')).toBe(
      'written by a timer for https://shop.example.com/\n',
    )
    expect(existsSync(join(cwd, 'media'))).toBe(false)
  })
})
