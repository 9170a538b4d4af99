/**
 * Query fingerprints: one name for every run of "the same query", whatever its literals, its
 * parameters, its spacing, its comments or the length of its IN lists, so that counting by
 * fingerprint finds N+1 loops and groups slow queries. A single pass over the text, no parser:
 * a fingerprint is computed once per distinct SQL text and then read from a bounded cache.
 */
import { createHash } from 'node:crypto'

/** What a statement does, as the `db_operation_name` label of the metrics: a closed set. */
export const operations = [
  'select',
  'insert',
  'update',
  'delete',
  'begin',
  'commit',
  'rollback',
  'other',
] as const
export type Operation = (typeof operations)[number]

export interface Fingerprint {
  /** The normalised text: lower case, literals and parameters as `?`, lists as `(?)`. */
  readonly text: string
  /** 16 hex digits of its SHA-1: short enough for a log line, a table key, a metric. */
  readonly id: string
  readonly operation: Operation
}

const dml = new Set(['select', 'insert', 'update', 'delete'])
const known = new Set<string>(operations)

/** Normalises `sql` (see Fingerprint). Pure; `FingerprintCache` remembers its answers. */
export function fingerprint(sql: string): Fingerprint {
  let out = ''
  let depth = 0
  let first = ''
  let main = ''
  const n = sql.length
  let i = 0
  const space = () => {
    if (out !== '' && !out.endsWith(' ') && !out.endsWith('(')) out += ' '
  }
  while (i < n) {
    const c = sql[i] as string
    const next = sql[i + 1]
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f') {
      space()
      i++
    } else if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++
      space()
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      i = end === -1 ? n : end + 2
      space()
    } else if (c === "'" || ((c === 'e' || c === 'E') && next === "'")) {
      // A string literal ('' is a quote inside it; E'' strings also escape with a backslash).
      const escapes = c !== "'"
      i += escapes ? 2 : 1
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2
        else if (sql[i] === "'") break
        else i++
      }
      i++
      out += '?'
    } else if (c === '$' && next !== undefined && next >= '0' && next <= '9') {
      i++
      while (i < n && (sql[i] as string) >= '0' && (sql[i] as string) <= '9') i++
      out += '?'
    } else if (c === '$') {
      // A dollar-quoted string: $tag$ … $tag$.
      const close = sql.indexOf('$', i + 1)
      const tag = close === -1 ? '$' : sql.slice(i, close + 1)
      const end = sql.indexOf(tag, i + tag.length)
      i = end === -1 ? n : end + tag.length
      out += '?'
    } else if (c === '"') {
      const end = sql.indexOf('"', i + 1)
      const stop = end === -1 ? n : end + 1
      out += sql.slice(i, stop)
      i = stop
    } else if ((c >= '0' && c <= '9') || (c === '.' && next !== undefined && next >= '0' && next <= '9')) {
      while (i < n && /[0-9.eE_xXa-fA-F]/.test(sql[i] as string)) i++
      out += '?'
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i] as string)) i++
      const word = sql.slice(start, i).toLowerCase()
      if (first === '') first = word
      if (depth === 0 && main === '' && dml.has(word)) main = word
      out += word
    } else {
      if (c === '(') depth++
      else if (c === ')') depth--
      if (c === ',' || c === ')') out = out.trimEnd()
      out += c
      if (c === ',') out += ' '
      i++
    }
  }
  out = out.trim().replace(/;+$/, '').trimEnd()
  // Lists of values, whatever their length: (?, ?, ?) → (?), then (?), (?) → (?).
  out = out.replace(/\(\?(?:, \?)*\)/g, '(?)').replace(/\(\?\)(?:, \(\?\))+/g, '(?)')
  const operation = (first === 'with' ? main || 'other' : known.has(first) ? first : 'other') as Operation
  return { text: out, id: createHash('sha1').update(out).digest('hex').slice(0, 16), operation }
}

/**
 * Remembers fingerprints by exact SQL text: an app runs a few hundred distinct statements, each
 * thousands of times, so a lookup (a string hash) replaces the pass over the text. Bounded: past
 * `max` texts (an app that inlines its literals makes a new text per value) it starts afresh.
 */
export class FingerprintCache {
  private readonly known = new Map<string, Fingerprint>()
  constructor(private readonly max = 5000) {}

  of(sql: string): Fingerprint {
    let found = this.known.get(sql)
    if (found === undefined) {
      if (this.known.size >= this.max) this.known.clear()
      found = fingerprint(sql)
      this.known.set(sql, found)
    }
    return found
  }
}
