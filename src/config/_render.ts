/**
 * What `shipshape config show|docs|sample` print: the effective values with their sources, a
 * Markdown reference, and sample files in four formats. A secret's value is never printed; a
 * sample leaves it empty.
 */
import { describe } from './_coerce.js'
import type { Declaration, Entry } from './_declare.js'
import { secretMask } from './_values.js'
import type { Resolution } from './types.js'

export type SampleFormat = 'env' | 'yaml' | 'json' | 'toml'
export const sampleFormats: readonly SampleFormat[] = ['env', 'yaml', 'json', 'toml']

/** The marker a sample puts beside each required setting it leaves empty. */
export const requiredMarker = 'required: fill this in'

/** The default as declared (the form a user writes), or undefined when computed or absent. */
function declaredDefault(entry: Entry): unknown {
  const value = entry.setting.options.default
  return typeof value === 'function' ? undefined : value
}

function isSecret(entry: Entry): boolean {
  return entry.setting.options.secret === true
}

/** The default as the docs and --help show it. */
export function shownDefault(entry: Entry): string {
  const { shownDefault: shown } = entry.setting.options
  const value = declaredDefault(entry)
  if (value !== undefined && isSecret(entry)) return secretMask
  if (shown !== undefined) return shown
  if (value === undefined) return entry.setting.options.required ? 'none (required)' : 'none'
  return envText(value) === '' ? '""' : envText(value)
}

/** A value as an environment variable holds it: lists comma-separated, objects as JSON. */
function envText(value: unknown): string {
  if (typeof value === 'string') return value
  // An empty variable means unset, so an empty list is written as JSON.
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item !== 'object' && !String(item).includes(','))
  )
    return value.join(',')
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

// ---------------------------------------------------------------------------------------------
// show

/** Every setting, its effective value (secrets masked) and where it came from. */
export function showText(declaration: Declaration, resolution: Resolution<unknown>): string {
  const rows = declaration.entries.map((entry) => {
    const origin = resolution.origins.get(entry.key)
    const value = valueAt(resolution, entry)
    const invalid = value === undefined && origin !== undefined && origin.kind !== 'unset'
    return [
      entry.key,
      invalid ? '(invalid)' : shownValue(entry, value, origin?.kind === 'unset'),
      origin?.label ?? 'not set',
    ]
  })
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)))
  const lines = rows.map(([key, value, source]) =>
    `${(key as string).padEnd(widths[0] as number)}  ${(value as string).padEnd(widths[1] as number)}  ${source}`.trimEnd(),
  )
  const file = resolution.file ? `Config file: ${resolution.file}\n` : 'Config file: none\n'
  return `${file}\n${lines.join('\n')}\n`
}

export function showJson(declaration: Declaration, resolution: Resolution<unknown>): string {
  const settings = declaration.entries.map((entry) => {
    const value = valueAt(resolution, entry)
    return {
      key: entry.key,
      value: isSecret(entry) && value !== undefined ? secretMask : value,
      source: resolution.origins.get(entry.key)?.label ?? 'not set',
      env: entry.env,
      ...(entry.flag ? { flag: `--${entry.flag}` } : {}),
    }
  })
  return `${JSON.stringify({ file: resolution.file ?? null, settings }, null, 2)}\n`
}

/** The setting's value when it loaded valid, even if others did not. */
function valueAt(resolution: Resolution<unknown>, entry: Entry): unknown {
  return resolution.settled.get(entry.key)
}

function shownValue(entry: Entry, value: unknown, unset: boolean): string {
  if (unset || value === undefined) return '(not set)'
  if (isSecret(entry)) return secretMask
  const type = describe(entry.setting.schema).type
  if (type === 'duration' && typeof value === 'number') return formatDuration(value)
  if (type === 'byte size' && typeof value === 'number') return formatBytes(value)
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** 30000 → `30s`, 120000 → `2m`, 1500 → `1500ms`: the largest unit that divides evenly. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** 10000000 → `10MB`, 16384 → `16KiB`: the largest unit that divides evenly. */
export function formatBytes(size: number): string {
  for (const [unit, factor] of [
    ['GiB', 1024 ** 3],
    ['GB', 1e9],
    ['MiB', 1024 ** 2],
    ['MB', 1e6],
    ['KiB', 1024],
    ['KB', 1e3],
  ] as const) {
    if (size !== 0 && size % factor === 0) return `${size / factor}${unit}`
  }
  return `${size}`
}

// ---------------------------------------------------------------------------------------------
// docs

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const code = (text: string) => (text === '' ? '' : `\`${text.replace(/`/g, "'")}\``)

/** A Markdown reference: per section, each setting's key, variable, type, default, flags and description. */
export function docsMarkdown(declaration: Declaration, title: string, intro = ''): string {
  const parts = [`# ${title}\n`]
  if (intro) parts.push(`${intro.trim()}\n`)
  for (const section of declaration.sections) {
    const entries = declaration.entries.filter((entry) => entry.section === section.key)
    if (entries.length === 0) continue
    if (section.key) parts.push(`## ${section.key}\n`)
    if (section.description) parts.push(`${section.description}\n`)
    const withFlags = entries.some((entry) => entry.flag)
    const header = [
      'Key',
      'Environment variable',
      ...(withFlags ? ['Flag'] : []),
      'Type',
      'Default',
      'Required',
      'Secret',
      'Description',
    ]
    const rows = entries.map((entry) => {
      const { options } = entry.setting
      const env = [entry.env, ...(options.envFallback?.names ?? [])].map(code).join(', ')
      const example =
        options.example !== undefined && !isSecret(entry)
          ? ` Example: ${code(envText(options.example))}.`
          : ''
      return [
        code(entry.key),
        env,
        ...(withFlags ? [entry.flag ? code(`--${entry.flag}`) : ''] : []),
        describe(entry.setting.schema).type,
        // A declared default is a value, shown as code; a described one is prose.
        entry.setting.options.shownDefault !== undefined || declaredDefault(entry) === undefined
          ? shownDefault(entry)
          : code(shownDefault(entry)),
        options.required ? 'yes' : 'no',
        isSecret(entry) ? 'yes' : 'no',
        `${options.description}${example}`,
      ].map(cell)
    })
    parts.push(
      [
        `| ${header.join(' | ')} |`,
        `|${header.map(() => ' --- ').join('|')}|`,
        ...rows.map((row) => `| ${row.join(' | ')} |`),
      ].join('\n') + '\n',
    )
  }
  return parts.join('\n')
}

// ---------------------------------------------------------------------------------------------
// samples

interface Line {
  entry: Entry
  /** The value written, or undefined when the line is commented out (required, computed or no default). */
  value: unknown
  comment: string[]
  required: boolean
}

function sampleLines(declaration: Declaration): Line[] {
  return declaration.entries.map((entry) => {
    const { options } = entry.setting
    const value = isSecret(entry) ? undefined : declaredDefault(entry)
    const required = options.required === true
    const notes = [
      describe(entry.setting.schema).type,
      required ? requiredMarker : `default: ${shownDefault(entry)}`,
      ...(options.example !== undefined && !isSecret(entry) ? [`example: ${envText(options.example)}`] : []),
      ...(isSecret(entry) ? ['secret: prefer an environment variable or a secret file'] : []),
    ]
    return { entry, value, comment: [...wrap(options.description), notes.join('; ')], required }
  })
}

function wrap(text: string, width = 96): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines
}

/**
 * A sample file holding every setting: defaults written out, required settings left empty (and
 * marked), secrets never filled in. Filled in, it loads without error.
 */
export function sample(declaration: Declaration, format: SampleFormat): string {
  const lines = sampleLines(declaration)
  const header = [
    'Generated by `shipshape config sample`. Every setting, with its default.',
    `Settings marked "${requiredMarker}" must be set before the app starts.`,
  ]
  if (format === 'json') return `${JSON.stringify(jsonTree(lines), null, 2)}\n`
  if (format === 'env') {
    const out = header.map((line) => `# ${line}`)
    for (const line of lines) {
      out.push('', ...line.comment.map((text) => `# ${text}`))
      out.push(
        line.value === undefined && !line.required
          ? `# ${line.entry.env}=`
          : `${line.entry.env}=${envValue(line.value)}`,
      )
    }
    return `${out.join('\n')}\n`
  }
  if (format === 'yaml') return yamlSample(declaration, lines, header)
  return tomlSample(declaration, lines, header)
}

function envValue(value: unknown): string {
  if (value === undefined) return ''
  const text = envText(value)
  return /^[\w./:@,+-]*$/.test(text) ? text : JSON.stringify(text)
}

function jsonTree(lines: Line[]): Record<string, unknown> {
  const tree: Record<string, unknown> = {}
  for (const line of lines) {
    if (line.value === undefined && !line.required) continue
    let node = tree
    for (const segment of line.entry.path.slice(0, -1)) {
      node[segment] ??= {}
      node = node[segment] as Record<string, unknown>
    }
    // JSON has no comments: a required setting is null, which loads as "not set" until filled in.
    node[line.entry.path[line.entry.path.length - 1] as string] = line.value ?? null
  }
  return tree
}

const bareKey = (key: string) => (/^[A-Za-z_][\w-]*$/.test(key) ? key : JSON.stringify(key))

function yamlSample(declaration: Declaration, lines: Line[], header: string[]): string {
  const out = header.map((line) => `# ${line}`)
  const opened = new Set<string>([''])
  for (const line of lines) {
    const { path } = line.entry
    // Open each enclosing section the first time one of its settings appears.
    for (let depth = 1; depth < path.length; depth++) {
      const key = path.slice(0, depth).join('.')
      if (opened.has(key)) continue
      opened.add(key)
      const description = declaration.sections.find((section) => section.key === key)?.description
      out.push('')
      if (description) out.push(...wrap(description).map((text) => `${'  '.repeat(depth - 1)}# ${text}`))
      out.push(`${'  '.repeat(depth - 1)}${bareKey(path[depth - 1] as string)}:`)
    }
    const indent = '  '.repeat(path.length - 1)
    const name = bareKey(path[path.length - 1] as string)
    out.push('', ...line.comment.map((text) => `${indent}# ${text}`))
    if (line.required) out.push(`${indent}${name}:`)
    else if (line.value === undefined) out.push(`${indent}# ${name}:`)
    else out.push(`${indent}${name}: ${JSON.stringify(line.value)}`)
  }
  return `${out.join('\n')}\n`
}

function tomlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`
  if (value !== null && typeof value === 'object')
    return `{ ${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)} = ${tomlValue(item)}`)
      .join(', ')} }`
  return JSON.stringify(value)
}

function tomlSample(declaration: Declaration, lines: Line[], header: string[]): string {
  const out = header.map((line) => `# ${line}`)
  // TOML needs a table's own keys before any sub-table, so lines go out grouped by section.
  const sections = declaration.sections.map((section) => section.key)
  for (const section of sections) {
    const members = lines.filter((line) => line.entry.section === section)
    if (members.length === 0) continue
    if (section) {
      const description = declaration.sections.find((candidate) => candidate.key === section)?.description
      out.push('')
      if (description) out.push(...wrap(description).map((text) => `# ${text}`))
      out.push(`[${section.split('.').map(bareKey).join('.')}]`)
    }
    for (const line of members) {
      const name = bareKey(line.entry.path[line.entry.path.length - 1] as string)
      out.push('', ...line.comment.map((text) => `# ${text}`))
      out.push(line.value === undefined ? `# ${name} =` : `${name} = ${tomlValue(line.value)}`)
    }
  }
  return `${out.join('\n')}\n`
}

/**
 * `--help` text for the settings that have a flag: each flag with its type, what it does, its
 * environment variables and its default, as `shipshape serve --help` lists them.
 */
export function flagHelp(entries: readonly Entry[]): string {
  return entries
    .filter((entry) => entry.flag)
    .map((entry) => {
      const env = [entry.env, ...(entry.setting.options.envFallback?.names ?? [])].join(', ')
      return `  --${entry.flag} <${flagType(entry)}>\n      ${entry.setting.options.description}\n      env ${env}; default ${shownDefault(entry)}`
    })
    .join('\n')
}

/** `one of a, b` → `a|b`; `a duration` → `a-duration`. */
function flagType(entry: Entry): string {
  const { type } = describe(entry.setting.schema)
  return type.startsWith('one of')
    ? type.slice('one of '.length).split(', ').join('|')
    : type.replace(/ /g, '-')
}
