/**
 * Masking of secret keys in log lines, as pino formatters. pino's own `redact` with wildcard paths
 * (`*.password`) runs its redactor over every value of every line and re-parses its paths each
 * time: about 80 µs for an app's small line, ten times the line itself (bench/README.md,
 * capabilities). Here a line's fields are walked once, to three levels, and copied only where a
 * key is masked: a line without secrets is written as it came.
 */
import type { Logger } from 'pino'

const censor = '[Redacted]'
/** The levels searched: `password`, `req.password`, `req.headers.authorization`. */
const depth = 3

type Fields = Record<string, unknown>

/** A line's fields with the values of `keys` masked, to three levels; the same object when none is. */
export function secretMask(keys: readonly string[]): (fields: Fields) => Fields {
  const secret = new Set(keys)
  const mask = <T>(value: T, level: number): T => {
    if (level === depth || !walked(value)) return value
    let copy: Fields | undefined
    for (const key of Object.keys(value)) {
      const inner = (value as Fields)[key]
      const masked = secret.has(key) ? censor : mask(inner, level + 1)
      if (masked === inner) continue
      copy ??= cloned(value)
      copy[key] = masked
    }
    return (copy ?? value) as T
  }
  return (fields) => mask(fields, 0)
}

/**
 * The logger, whose children (and theirs) bind masked fields: pino runs its `bindings` formatter
 * for the root logger only, so a child's `{ token }` would otherwise be written as bound.
 */
export function withMaskedChildren(logger: Logger, mask: (fields: Fields) => Fields): Logger {
  const child = logger.child
  // Children are made with Object.create(parent), so they inherit this one.
  logger.child = function maskedChild(this: Logger, bindings, options) {
    return child.call(this, mask(bindings), options)
  } as Logger['child']
  return logger
}

/**
 * Plain objects, arrays and errors: what apps log fields in. A Buffer, a Map or a class instance
 * is left to its serializer (walking a Buffer's bytes as keys would cost more than the line).
 */
function walked(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null || Array.isArray(value) || value instanceof Error
}

/** A copy with the same prototype and own properties (an Error keeps its message and stack). */
function cloned(value: object): Fields {
  if (Array.isArray(value)) return [...value] as unknown as Fields
  const copy = Object.create(Object.getPrototypeOf(value), Object.getOwnPropertyDescriptors(value))
  // V8's `stack` reads through its own error object: a copied descriptor would read as empty.
  if (value instanceof Error) Object.defineProperty(copy, 'stack', { value: value.stack, writable: true })
  return copy
}
