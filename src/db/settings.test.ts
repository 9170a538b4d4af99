/** The database settings group: where the URL comes from, what it becomes, and how a bad one is reported. */
import { describe, expect, it } from 'vitest'
import { loadServeOptions } from '../server/index.js'

const load = (env: Record<string, string>, flags: Record<string, string> = {}) =>
  loadServeOptions('app.js', flags, env, { cwd: '/srv/app' }).database

describe('the database settings', () => {
  it('default to the embedded database in ./data/db, a statement timeout under the request timeout', () => {
    const database = load({})
    expect(database.url).toBe('')
    expect(database.dataDir).toBe('/srv/app/data/db')
    expect(database.statementTimeoutMs).toBe(29_000)
    expect(load({}, { timeout: '5s' }).statementTimeoutMs).toBe(4000)
    expect(database.connectTimeoutMs).toBeLessThanOrEqual(5000)
  })

  it('take DATABASE_URL, or build it from the PG* variables; a CA file turns on verify-full', () => {
    expect(load({ DATABASE_URL: 'postgresql://a@db.internal/app' }).url).toBe(
      'postgresql://a@db.internal/app',
    )
    const fromPg = new URL(
      load({ PGHOST: 'db.internal', PGUSER: 'app', PGPASSWORD: 'p w', PGDATABASE: 'shop' }).url,
    )
    expect([fromPg.hostname, fromPg.username, decodeURIComponent(fromPg.password), fromPg.pathname]).toEqual([
      'db.internal',
      'app',
      'p w',
      '/shop',
    ])
    const withCa = new URL(
      load({ DATABASE_URL: 'postgresql://a@db.internal/app', SHIPSHAPE_DB_SSL_CA_FILE: 'certs/ca.pem' }).url,
    )
    expect(withCa.searchParams.get('sslrootcert')).toBe('/srv/app/certs/ca.pem')
    expect(withCa.searchParams.get('sslmode')).toBe('verify-full')
  })

  it('refuse a DATABASE_URL that does not parse, naming the setting, the password masked', () => {
    for (const url of ['postgresql://app:hunter2@db.internal:notaport/app', 'mysql://app:hunter2@db/app']) {
      let message = ''
      try {
        load({ DATABASE_URL: url })
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toContain('DATABASE_URL')
      expect(message).toContain('app:****@')
      expect(message).not.toContain('hunter2')
    }
  })
})
