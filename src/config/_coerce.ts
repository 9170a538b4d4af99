/**
 * Turning environment strings into typed values, strictly: `yes` is true, `maybe` is an error
 * (never silently false), `12abc` is not a number. Also the two kinds zod lacks: durations
 * (`500ms`, `5s`, `2m`) and byte sizes (`10MB`, `1GiB`), and a plain-words description of each
 * schema for error messages and docs.
 */
import { z } from 'zod'

type Unit = 'ms' | 's'
type Special = { kind: 'duration'; bareUnit: Unit } | { kind: 'bytes' }

/** The duration and byte-size schemas made here, recognised by identity. */
const specials = new WeakMap<z.ZodType, Special>()

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const byteUnits: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
}
const durationExpected = 'a duration such as 500ms, 5s or 2m'
const bytesExpected = 'a size such as 512KB, 10MB or 1GiB'

/**
 * `500ms`, `5s`, `2m`, `1h`, `1d`, or combined (`1h30m`), in milliseconds. A bare number is in
 * `bareUnit`; gunicorn-style options use seconds, so `--timeout 30` means 30 s.
 */
export function parseDuration(value: string, bareUnit: Unit = 'ms'): number | undefined {
  const text = value.trim().toLowerCase()
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * (durationUnits[bareUnit] as number))
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text)) return undefined
  let total = 0
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(amount) * (durationUnits[unit as string] as number)
  }
  return Number.isSafeInteger(Math.round(total)) ? Math.round(total) : undefined
}

/** `512`, `16KiB`, `10MB`, `1GiB` (KB = 1000 bytes, KiB = 1024), in bytes. */
export function parseBytes(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$/i.exec(value)
  if (!match) return undefined
  const bytes = Math.floor(Number(match[1]) * (byteUnits[(match[2] ?? 'b').toLowerCase()] as number))
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

/** A duration in milliseconds, written `500ms`, `5s`, `2m`, `1h30m`; a bare number is in `bareUnit` (default ms). */
export function duration(options: { bareUnit?: Unit } = {}) {
  const bareUnit = options.bareUnit ?? 'ms'
  const built = durations.get(bareUnit)
  if (built !== undefined) return built
  const schema = durationSchema(bareUnit)
  durations.set(bareUnit, schema)
  return schema
}

/** A size in bytes, written `512`, `16KiB`, `10MB` or `1GiB`. */
export function bytes() {
  bytesSchema ??= byteSizeSchema()
  return bytesSchema
}

// Each kind's schema is built once, on first use, and shared by every setting of that kind: a
// zod schema is immutable (each of its methods returns a new one), and building this one (a
// union and a transform) costs about 30 µs a setting, and over 1 ms for the first.
const durations = new Map<Unit, ReturnType<typeof durationSchema>>()
let bytesSchema: ReturnType<typeof byteSizeSchema> | undefined

function durationSchema(bareUnit: Unit) {
  const schema = z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms =
      typeof value === 'number'
        ? value >= 0 && Number.isFinite(value)
          ? Math.round(value * (durationUnits[bareUnit] as number))
          : undefined
        : parseDuration(value, bareUnit)
    if (ms === undefined) {
      ctx.issues.push({ code: 'custom', message: durationExpected, input: value })
      return z.NEVER
    }
    return ms
  })
  specials.set(schema, { kind: 'duration', bareUnit })
  return schema
}

function byteSizeSchema() {
  const schema = z.union([z.number(), z.string()]).transform((value, ctx) => {
    const size =
      typeof value === 'number'
        ? Number.isSafeInteger(value) && value >= 0
          ? value
          : undefined
        : parseBytes(value)
    if (size === undefined) {
      ctx.issues.push({ code: 'custom', message: bytesExpected, input: value })
      return z.NEVER
    }
    return size
  })
  specials.set(schema, { kind: 'bytes' })
  return schema
}

type Def = { type: string; [key: string]: unknown }
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def
const wrappers = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch'])

/** The schema under optional/default/pipe wrappers: the one whose type decides coercion. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema
  for (;;) {
    if (specials.has(current)) return current
    const def = defOf(current)
    if (wrappers.has(def.type)) current = def.innerType as z.ZodType
    else if (def.type === 'pipe') current = def.in as z.ZodType
    else if (def.type === 'lazy') current = (def.getter as () => z.ZodType)()
    else return current
  }
}

/**
 * Validates with zod's function rather than the method: reading `schema.safeParse` binds it and
 * defines it on the schema instance first, a cost paid once per setting for nothing.
 */
export function safeParse<T>(schema: z.ZodType<T>, input: unknown) {
  return z.safeParse(schema, input)
}

export type Coerced = { ok: true; value: unknown } | { ok: false }

const numberPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i
const truthy = new Set(['true', '1', 'yes', 'on'])
const falsy = new Set(['false', '0', 'no', 'off'])

/**
 * Turns a string from the environment, a .env file, a secret file or the command line into the
 * value the schema expects. Fails rather than guesses; `describe(schema).expected` says why.
 */
export function coerce(schema: z.ZodType, raw: string): Coerced {
  const base = unwrap(schema)
  if (specials.has(base)) return { ok: true, value: raw }
  const def = defOf(base)
  const text = raw.trim()
  switch (def.type) {
    case 'boolean': {
      const lower = text.toLowerCase()
      if (truthy.has(lower)) return { ok: true, value: true }
      if (falsy.has(lower)) return { ok: true, value: false }
      return { ok: false }
    }
    case 'number':
      return numberPattern.test(text) ? { ok: true, value: Number(text) } : { ok: false }
    case 'bigint':
      return /^[+-]?\d+$/.test(text) ? { ok: true, value: BigInt(text) } : { ok: false }
    case 'array': {
      const items = text.startsWith('[')
        ? parseJson(text)
        : text === ''
          ? []
          : text.split(',').map((item) => item.trim())
      if (!Array.isArray(items)) return { ok: false }
      const element = def.element as z.ZodType
      const values: unknown[] = []
      for (const item of items) {
        if (typeof item !== 'string') {
          values.push(item)
          continue
        }
        const coerced = coerce(element, item)
        if (!coerced.ok) return coerced
        values.push(coerced.value)
      }
      return { ok: true, value: values }
    }
    case 'object':
    case 'record': {
      const value = parseJson(text)
      return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? { ok: true, value }
        : { ok: false }
    }
    case 'literal': {
      const match = (def.values as unknown[]).find((value) => String(value) === text)
      return match === undefined ? { ok: true, value: raw } : { ok: true, value: match }
    }
    case 'union': {
      const options = def.options as z.ZodType[]
      if (options.some((option) => stringLike(unwrap(option)))) return { ok: true, value: raw }
      for (const option of options) {
        const coerced = coerce(option, raw)
        if (coerced.ok && safeParse(option, coerced.value).success) return coerced
      }
      return { ok: false }
    }
    default:
      return { ok: true, value: raw }
  }
}

/** Whether values of this schema are written as strings in files too (no coercion needed). */
export function stringLike(schema: z.ZodType): boolean {
  const base = unwrap(schema)
  if (specials.has(base)) return true
  const type = defOf(base).type
  return type === 'string' || type === 'enum' || type === 'template_literal'
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export interface Description {
  /** Short type name for docs tables: `integer`, `duration`, `list of string`. */
  type: string
  /** What a valid value looks like, for error messages. */
  expected: string
}

/** Plain words for what a schema accepts. */
export function describe(schema: z.ZodType): Description {
  const base = unwrap(schema)
  const special = specials.get(base)
  if (special?.kind === 'duration') return { type: 'duration', expected: durationExpected }
  if (special?.kind === 'bytes') return { type: 'byte size', expected: bytesExpected }
  const def = defOf(base)
  switch (def.type) {
    case 'boolean':
      return { type: 'boolean', expected: 'true or false (also yes/no, on/off, 1/0)' }
    case 'number': {
      const { minValue, maxValue, isInt } = base as unknown as z.ZodNumber
      const low = minValue !== null && minValue > Number.MIN_SAFE_INTEGER ? minValue : undefined
      const high = maxValue !== null && maxValue < Number.MAX_SAFE_INTEGER ? maxValue : undefined
      const noun = isInt ? 'a whole number' : 'a number'
      const range =
        low !== undefined && high !== undefined
          ? ` from ${low} to ${high}`
          : low !== undefined
            ? ` of ${low} or more`
            : high !== undefined
              ? ` of ${high} or less`
              : ''
      return { type: isInt ? 'integer' : 'number', expected: noun + range }
    }
    case 'bigint':
      return { type: 'integer', expected: 'a whole number' }
    case 'string': {
      const format = (def.format as string | undefined) ?? undefined
      if (format === 'url') return { type: 'URL', expected: 'a URL such as https://example.com/path' }
      return format
        ? { type: `string (${format})`, expected: `a ${format}` }
        : { type: 'string', expected: 'a string' }
    }
    case 'enum':
    case 'literal': {
      const values = def.type === 'enum' ? Object.values(def.entries as object) : (def.values as unknown[])
      const listed = values.map(String).join(', ')
      return { type: `one of ${listed}`, expected: `one of ${listed}` }
    }
    case 'array': {
      const element = describe(def.element as z.ZodType)
      return {
        type: `list of ${element.type}`,
        expected: `a list (comma-separated or a JSON array) of ${element.expected.replace(/^an? /, '')}s`,
      }
    }
    case 'object':
    case 'record':
      return { type: 'JSON object', expected: 'a JSON object' }
    case 'union': {
      const parts = (def.options as z.ZodType[]).map(describe)
      return {
        type: parts.map((part) => part.type).join(' or '),
        expected: parts.map((part) => part.expected).join(', or '),
      }
    }
    default:
      return { type: def.type, expected: `a ${def.type}` }
  }
}
