import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { errorReference } from './_reference.js'
import { catalogue, isShipshapeError, ShipshapeError } from './index.js'

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
})
