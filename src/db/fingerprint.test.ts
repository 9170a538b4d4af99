import { describe, expect, it } from 'vitest'
import { FingerprintCache, fingerprint } from './_fingerprint.js'

const same = (a: string, b: string) => expect(fingerprint(a).text).toBe(fingerprint(b).text)
const differ = (a: string, b: string) => expect(fingerprint(a).id).not.toBe(fingerprint(b).id)

describe('query fingerprints', () => {
  it('makes parameter lists of any length one fingerprint', () => {
    same('SELECT * FROM t WHERE id IN ($1, $2, $3)', 'SELECT * FROM t WHERE id IN ($1)')
    expect(fingerprint('SELECT * FROM t WHERE id IN ($1, $2, $3)').text).toBe(
      'select * from t where id in (?)',
    )
    same('select * from t where id in (1,2,3,4)', "select * from t where id in ('a')")
    same('INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)', 'INSERT INTO t (a, b) VALUES ($1, $2)')
  })

  it('replaces numbers, strings and parameters with ?', () => {
    same(
      "SELECT * FROM users WHERE name = 'alice' AND age > 30",
      'SELECT * FROM users WHERE name = $1 AND age > $2',
    )
    same("select 'it''s', E'a\\'b', $$x$$, $tag$y$tag$, 1.5e3", 'select ?, ?, ?, ?, ?')
    expect(fingerprint('SELECT 1.5, .5, 0x1F').text).toBe('select ?, ?, ?')
  })

  it('ignores whitespace, comments, keyword case and a trailing semicolon', () => {
    same('SELECT  *\n\tFROM t -- why\nWHERE /* a\ncomment */ id = $1;', 'select * from t where id = $1')
  })

  it('keeps identifiers, quoted ones verbatim, apart', () => {
    differ('SELECT * FROM posts WHERE id = $1', 'SELECT * FROM users WHERE id = $1')
    differ('SELECT "Name" FROM t', 'SELECT name FROM t')
    differ('SELECT t1.a FROM t1', 'SELECT t2.a FROM t2')
  })

  it('names the operation, looking past a WITH to the main statement', () => {
    expect(fingerprint('select 1').operation).toBe('select')
    expect(fingerprint('  INSERT INTO t VALUES (1)').operation).toBe('insert')
    expect(fingerprint('WITH x AS (SELECT 1) UPDATE t SET a = 1').operation).toBe('update')
    expect(fingerprint('BEGIN').operation).toBe('begin')
    expect(fingerprint('VACUUM t').operation).toBe('other')
  })

  it('gives 16 hex digits of id, and the cache the same answer as the function', () => {
    const cache = new FingerprintCache(2)
    for (const sql of ['select 1', 'select 2', 'select $1', 'select 1']) {
      expect(cache.of(sql)).toEqual(fingerprint(sql))
      expect(cache.of(sql).id).toMatch(/^[0-9a-f]{16}$/)
    }
  })
})
