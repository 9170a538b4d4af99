import { describe, expect, it } from 'vitest'
import { checkKey, keyToPath, pathToKey, safeFileName, uniqueKey } from './_keys.js'

describe('storage keys', () => {
  it('accepts relative paths and returns them in NFC', () => {
    expect(checkKey('avatars/42/photo.png')).toBe('avatars/42/photo.png')
    const decomposed = 'cafe\u0301/re\u0301sume\u0301.pdf'
    expect(checkKey(decomposed)).toBe('café/résumé.pdf')
    expect(checkKey('日本語/ファイル.txt')).toBe('日本語/ファイル.txt')
  })

  it.each([
    ['', 'empty'],
    ['../etc/passwd', 'dot-dot'],
    ['a/../../b', 'dot-dot inside'],
    ['a/./b', 'dot segment'],
    ['/etc/passwd', 'absolute'],
    ['a//b', 'empty segment'],
    ['a/', 'trailing slash'],
    ['a\\..\\b', 'backslash'],
    ['a\u0000b', 'NUL'],
    ['a\nb', 'newline'],
    ['a\rb', 'carriage return'],
    ['a\u007fb', 'DEL'],
    ['a\u0085b', 'C1 control'],
    ['a\u2028b', 'line separator'],
    ['invoice\u202efdp.exe', 'right-to-left override'],
    ['a\u2066b\u2069.txt', 'bidirectional isolate'],
    ['a\u200fb', 'right-to-left mark'],
    ['a\u061cb', 'Arabic letter mark'],
    ['a\ufeffb', 'byte order mark'],
    ['a\u200bb', 'zero-width space'],
    ['.signing-key', 'hidden file'],
    ['a/.upload-123', 'hidden segment'],
    ['x'.repeat(256), 'segment too long'],
    [`${'a/'.repeat(600)}b`, 'key too long'],
  ])('rejects %j (%s)', (key) => {
    expect(() => checkKey(key)).toThrow(
      expect.objectContaining({ code: 'SHIPSHAPE_E_STORAGE_KEY', status: 400 }),
    )
  })

  it('rejects what is not a string', () => {
    expect(() => checkKey(undefined as unknown as string)).toThrow(/not allowed/)
  })

  it('makes a unique key by suffixing the name, keeping directory and extension', () => {
    const first = uniqueKey('reports/q3.csv')
    const second = uniqueKey('reports/q3.csv')
    expect(first).toMatch(/^reports\/q3-[a-z0-9]{8}\.csv$/)
    expect(second).not.toBe(first)
    expect(uniqueKey('README')).toMatch(/^README-[a-z0-9]{8}$/)
  })

  it('makes a client file name safe instead of rejecting it', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd')
    expect(safeFileName('C:\\Users\\me\\photo.jpg')).toBe('photo.jpg')
    expect(safeFileName('.htaccess')).toBe('htaccess')
    expect(safeFileName('a\u0000b\nc.txt')).toBe('a-b-c.txt')
    expect(safeFileName('')).toBe('file')
    expect(safeFileName('..')).toBe('file')
    expect(safeFileName('cafe\u0301.png')).toBe('café.png')
    expect(safeFileName('invoice\u202efdp.exe')).toBe('invoicefdp.exe')
    expect(safeFileName('\u2067a\u2069\u00ad\u200e.txt')).toBe('a.txt')
    // The joiners stay: Persian and emoji sequences need them, and they reorder nothing.
    expect(safeFileName('می\u200cخواهم 👩\u200d💻.txt')).toBe('می\u200cخواهم 👩\u200d💻.txt')
    expect(checkKey('می\u200cخواهم.txt')).toBe('می\u200cخواهم.txt')
    const long = safeFileName(`${'é'.repeat(300)}.jpeg`)
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(239)
    expect(long.endsWith('.jpeg')).toBe(true)
    expect(() => checkKey(uniqueKey(long))).not.toThrow()
  })

  it('maps keys to URL paths and back, refusing what checkKey refuses', () => {
    const key = 'a b/é?#%.txt'
    const path = keyToPath(key)
    expect(path).toBe('a%20b/%C3%A9%3F%23%25.txt')
    expect(pathToKey(path)).toBe(key)
    expect(pathToKey('..%2Fsecret')).toBeUndefined()
    expect(pathToKey('%E0%A4%A')).toBeUndefined()
    expect(pathToKey('a/%2e%2e/b')).toBeUndefined()
    expect(pathToKey('cafe%CC%81.txt')).toBeUndefined()
  })
})
