import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { get, ready, startServe } from '../_test/cli.js'
import { serve } from '../_test/pipeline.js'
import { adjustSecurityHeaders, cspNonce, csrfToken, setCookie } from '../security/index.js'
import { configureStorages } from '../storage/index.js'
import { errorReference } from './_reference.js'
import { catalogue, type ErrorCode, isShipshapeError, ShipshapeError } from './index.js'

/** The error `call` throws, which must come from the catalogue with this code. */
async function thrownWith(code: ErrorCode, call: () => unknown): Promise<ShipshapeError> {
  let thrown: unknown
  try {
    await call()
  } catch (error) {
    thrown = error
  }
  expect(isShipshapeError(thrown) && thrown.code, String(thrown)).toBe(code)
  return thrown as ShipshapeError
}

const reference = new URL('../../docs/errors.md', import.meta.url)

describe('the error catalogue', () => {
  it('gives every code a client status and a fix that says what to do', () => {
    for (const [code, entry] of Object.entries(catalogue)) {
      expect(code).toMatch(/^SHIPSHAPE_E_[A-Z_]+$/)
      expect(entry.status).toBeGreaterThanOrEqual(400)
      expect(entry.fix.length, code).toBeGreaterThan(20)
    }
  })

  it('carries code, status, fix and cause on the error, recognisable across copies of shipshape', () => {
    const cause = new Error('EADDRINUSE')
    const error = new ShipshapeError('SHIPSHAPE_E_BIND', '127.0.0.1:80', { cause })
    expect(error.message).toBe('The server could not listen on the requested address: 127.0.0.1:80')
    expect(error).toMatchObject({ code: 'SHIPSHAPE_E_BIND', status: 500, cause })
    expect(isShipshapeError(Object.assign(new Error('x'), { code: 'SHIPSHAPE_E_TIMEOUT' }))).toBe(true)
    expect(isShipshapeError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false)
  })

  it('docs/errors.md is up to date', () => {
    if (process.env.UPDATE_DOCS) writeFileSync(reference, errorReference())
    expect(readFileSync(reference, 'utf8'), 'docs/errors.md is stale: run `npm run docs`').toBe(
      errorReference(),
    )
  })

  it('a function that needs a request, called outside one, says that is what happened', async () => {
    const calls: [string, () => unknown][] = [
      ['cspNonce()', () => cspNonce()],
      ['setCookie()', () => setCookie('theme', 'dark')],
      ['csrfToken()', () => csrfToken()],
      ['adjustSecurityHeaders()', () => adjustSecurityHeaders({ headers: {} })],
    ]
    for (const [name, call] of calls) {
      const error = await thrownWith('SHIPSHAPE_E_OUTSIDE_REQUEST', call)
      expect(error.message).toBe(
        `A function that works on the current request was called while no request was being handled: ${name}`,
      )
    }
  })

  it('a wrong argument is a catalogued error naming what was given', async () => {
    const root = mkdtempSync(join(tmpdir(), 'shipshape-errors-'))
    try {
      const media = configureStorages({ root }).get('public')
      const error = await thrownWith('SHIPSHAPE_E_ARGUMENT', () => media.put('a.txt', 42 as never))
      expect(error.message).toContain('got number')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('a fetch handler that returns no Response fails its request with a catalogued error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-errors-'))
    const entry = join(dir, 'app.mjs')
    writeFileSync(entry, "export default { fetch: () => 'hello' }\n")
    const server = await serve(entry)
    try {
      expect((await fetch(server.url)).status).toBe(500)
      expect(JSON.stringify(server.logs)).toContain('SHIPSHAPE_E_APP_RESPONSE')
      expect(JSON.stringify(server.logs)).toContain('it returned string')
    } finally {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('adjustSecurityHeaders() after the response started says it started (through the real serve)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-errors-'))
    const security = new URL('../../dist/security/index.js', import.meta.url).href
    const entry = join(dir, 'app.mjs')
    writeFileSync(
      entry,
      `import { adjustSecurityHeaders } from '${security}'
export default (req, res) => {
  res.write('started; ')
  try {
    adjustSecurityHeaders({ headers: { 'X-Late': '1' } })
    res.end('no error')
  } catch (error) {
    res.end(error.code + ': ' + error.message)
  }
}
`,
    )
    const server = await startServe([entry, '--workers', '1'])
    try {
      await ready(server, 1)
      expect((await get(`${server.url}/`)).body).toBe(
        'started; SHIPSHAPE_E_HEADERS_FIXED: The security headers of this response can no longer be changed: the response has already started',
      )
    } finally {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
