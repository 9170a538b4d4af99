/**
 * Storage keys: what is allowed in one, and how a name becomes a key that never overwrites.
 * A key is a relative, `/`-separated path. The same rules hold for every driver, so a key that
 * works on the local disk works on S3 and the other way round.
 */
import { randomBytes } from 'node:crypto'
import { extname } from 'node:path'
import { ShipshapeError } from '../errors/index.js'

/** S3's limit on a key, in UTF-8 bytes. */
const maxKeyBytes = 1024
/** Most file systems' limit on one path segment, in bytes. */
const maxSegmentBytes = 255
// Control characters (Unicode Cc: C0, C1, DEL) and the line and paragraph separators break logs,
// headers and terminals. Format characters (Cf) are invisible, and the bidirectional controls
// among them reorder what is shown: `invoice\u202Efdp.exe` shows as `invoiceexe.pdf`. The two
// joiners (U+200C, U+200D) are kept: Persian and Indic names and emoji sequences need them, and
// they cannot reorder text. Backslashes are path separators on Windows.
const forbidden = /[\p{Cc}\p{Zl}\p{Zp}\\]|(?![\u200c\u200d])\p{Cf}/u
const forbiddenEverywhere = new RegExp(forbidden.source, 'gu')

/**
 * Checks a key and returns its normal form (Unicode NFC, so `é` typed two ways is one key).
 * Rejected: empty keys, absolute paths, empty, `.` and `..` segments, segments starting with a
 * dot (reserved for the drivers' temporary files), control characters and backslashes.
 */
export function checkKey(key: string): string {
  const normal = typeof key === 'string' ? key.normalize('NFC') : ''
  const problem = keyProblem(normal)
  if (problem) throw new ShipshapeError('SHIPSHAPE_E_STORAGE_KEY', `${JSON.stringify(key)}: ${problem}`)
  return normal
}

function keyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty'
  if (forbidden.test(key)) return 'it contains a control, format or bidirectional character, or a backslash'
  if (key.startsWith('/')) return 'it is an absolute path'
  if (Buffer.byteLength(key) > maxKeyBytes) return `it is longer than ${maxKeyBytes} bytes`
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty path segment'
    if (segment === '.' || segment === '..') return 'it has a . or .. segment'
    if (segment.startsWith('.')) return 'a path segment starts with a dot'
    if (Buffer.byteLength(segment) > maxSegmentBytes)
      return `a path segment is longer than ${maxSegmentBytes} bytes`
  }
  return undefined
}

/** True when `key` passes `checkKey` (for request paths, where a bad key is simply not found). */
function isValidKey(key: string): boolean {
  return keyProblem(key) === undefined && key === key.normalize('NFC')
}

/**
 * A key from a name a client sent (an upload's file name): never rejected, made safe instead.
 * Only the last path segment is kept (old browsers send the whole client path), forbidden
 * characters become `-`, leading dots are dropped, and an empty result becomes `file`.
 */
export function safeFileName(name: string): string {
  const base = name.normalize('NFC').split(/[/\\]/).pop() ?? ''
  // Format characters go (a `-` would still leave a spoofed extension in view); the rest become `-`.
  const cleaned = base
    .replace(forbiddenEverywhere, (char) => (/\p{Cf}/u.test(char) ? '' : '-'))
    .replace(/^\.+/, '')
    .trim()
  return clip(cleaned || 'file')
}

/** Shortens a segment to the byte limit, keeping its extension and whole characters. */
function clip(segment: string): string {
  const room = maxSegmentBytes - 16 // leave room for the unique suffix
  if (Buffer.byteLength(segment) <= room) return segment
  const extension = extname(segment).slice(0, 16)
  let stem = segment.slice(0, segment.length - extension.length)
  while (Buffer.byteLength(stem) + Buffer.byteLength(extension) > room) stem = [...stem].slice(0, -1).join('')
  return stem + extension
}

// Lower-case letters and digits: the suffix survives case-insensitive file systems and URLs.
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'

/**
 * `reports/q3.csv` → `reports/q3-7k2m9xq4.csv`: 8 random characters (41 bits) before the
 * extension, so saving the same name twice gives two keys and no upload replaces another.
 */
export function uniqueKey(key: string): string {
  const slash = key.lastIndexOf('/')
  const segment = key.slice(slash + 1)
  const extension = extname(segment)
  const stem = segment.slice(0, segment.length - extension.length)
  const bytes = randomBytes(8)
  let suffix = ''
  for (const byte of bytes) suffix += alphabet[byte % alphabet.length]
  return `${key.slice(0, slash + 1)}${stem}-${suffix}${extension}`
}

/** `name.ext` with its extension replaced (or added) by `extension`. */
export function withExtension(key: string, extension: string): string {
  const current = extname(key.slice(key.lastIndexOf('/') + 1))
  return `${key.slice(0, key.length - current.length)}.${extension}`
}

/** A key as a URL path: each segment percent-encoded, the slashes kept. */
export function keyToPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/')
}

/** The inverse of keyToPath; undefined for bad percent-encoding or a key that would be rejected. */
export function pathToKey(path: string): string | undefined {
  try {
    const key = path.split('/').map(decodeURIComponent).join('/')
    return isValidKey(key) ? key : undefined
  } catch {
    return undefined
  }
}
