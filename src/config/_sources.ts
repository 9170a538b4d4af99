/**
 * Reading the places settings come from: a YAML, JSON or TOML file, a .env file, secret files.
 * Nothing read here is ever echoed back: parse errors report a line and a reason, never the
 * text around it, because that text may be a secret.
 */
import { type Declaration, Group, Setting, type Shape } from './_declare.js'
import { closest } from './_text.js'
import { show } from './_values.js'
import { parseSimpleYaml } from './_yaml.js'
import type { Problem } from './types.js'

// Builtins without their ES module namespace, which for node:fs loads fs streams (see _load.ts).
const { readFileSync } = process.getBuiltinModule('node:fs')
const { basename, dirname, extname } = process.getBuiltinModule('node:path')

// Parsers load on first use and synchronously, so `loadConfig` stays synchronous and an app
// without a YAML or TOML file never pays for importing their parser. The require function itself
// is made then too: a file in the simple YAML subset (see _yaml.ts) needs neither.
let requireHere: NodeJS.Require | undefined
function load(name: 'yaml' | 'smol-toml'): unknown {
  requireHere ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)
  return requireHere(name)
}
type YamlModule = typeof import('yaml')
type TomlModule = typeof import('smol-toml')

type Format = 'yaml' | 'json' | 'toml'

export interface ConfigFile {
  readonly path: string
  readonly format: Format
  readonly data: Record<string, unknown>
  /** The 1-based line where the key at `path` is written, when it can be found. */
  lineOf(path: readonly string[]): number | undefined
}

export type FileRead = { ok: true; file: ConfigFile } | { ok: false; line?: number; reason: string }

function formatOf(path: string): Format | undefined {
  const extension = extname(path).toLowerCase()
  if (extension === '.yaml' || extension === '.yml') return 'yaml'
  if (extension === '.json') return 'json'
  if (extension === '.toml') return 'toml'
  return undefined
}

export function readConfigFile(path: string): FileRead {
  const format = formatOf(path)
  if (format === undefined)
    return { ok: false, reason: 'the file name must end in .yaml, .yml, .json or .toml' }
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    return { ok: false, reason: unreadable(error) }
  }
  const parsed = format === 'yaml' ? parseYaml(text) : format === 'json' ? parseJson(text) : parseToml(text)
  if (!parsed.ok) return parsed
  if (parsed.data === null || parsed.data === undefined) parsed.data = {}
  if (typeof parsed.data !== 'object' || Array.isArray(parsed.data)) {
    return { ok: false, line: 1, reason: 'the file must hold a mapping of keys to values at the top' }
  }
  return {
    ok: true,
    file: { path, format, data: parsed.data as Record<string, unknown>, lineOf: parsed.lineOf },
  }
}

type Parsed =
  | { ok: true; data: unknown; lineOf: (path: readonly string[]) => number | undefined }
  | { ok: false; line?: number; reason: string }

function parseYaml(text: string): Parsed {
  const simple = parseSimpleYaml(text)
  if (simple)
    return {
      ok: true,
      data: simple.data,
      lineOf: (path) => simple.lines.get(path.join('.')) ?? nearest(simple.lines, path),
    }
  const yaml = load('yaml') as YamlModule
  const lineCounter = new yaml.LineCounter()
  const doc = yaml.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const [error] = doc.errors
  if (error) {
    // The first line of yaml's message names the problem; what follows quotes the source.
    return {
      ok: false,
      line: lineCounter.linePos(error.pos[0]).line,
      reason: `not valid YAML: ${error.message.split('\n')[0]}`,
    }
  }
  return { ok: true, data: doc.toJS(), lineOf: yamlLines(yaml, doc, lineCounter) }
}

function yamlLines(yaml: YamlModule, doc: import('yaml').Document, lineCounter: import('yaml').LineCounter) {
  return (path: readonly string[]): number | undefined => {
    let node: unknown = doc.contents
    let line: number | undefined
    for (const segment of path) {
      if (!yaml.isMap(node)) return line
      const pair = node.items.find((item) => yaml.isScalar(item.key) && String(item.key.value) === segment)
      if (!pair) return line
      const offset = (pair.key as import('yaml').Scalar).range?.[0]
      if (offset !== undefined) line = lineCounter.linePos(offset).line
      node = pair.value
    }
    return line
  }
}

/** The line of the deepest written key on the way to `path` (a key inside a flow value has no line of its own). */
function nearest(lines: ReadonlyMap<string, number>, path: readonly string[]): number | undefined {
  for (let depth = path.length - 1; depth > 0; depth--) {
    const line = lines.get(path.slice(0, depth).join('.'))
    if (line !== undefined) return line
  }
  return undefined
}

function parseJson(text: string): Parsed {
  try {
    const data = JSON.parse(text)
    // JSON is YAML, so yaml's parser finds key lines; it only runs when a line is asked for.
    let lines: ((path: readonly string[]) => number | undefined) | undefined
    return {
      ok: true,
      data,
      lineOf(path) {
        if (!lines) {
          const yaml = load('yaml') as YamlModule
          const lineCounter = new yaml.LineCounter()
          lines = yamlLines(yaml, yaml.parseDocument(text, { lineCounter }), lineCounter)
        }
        return lines(path)
      },
    }
  } catch (error) {
    // V8 quotes the text near the error; keep only where it is.
    const message = (error as Error).message
    const position = /position (\d+)/.exec(message)?.[1]
    const line = position === undefined ? undefined : text.slice(0, Number(position)).split('\n').length
    return { ok: false, line, reason: 'not valid JSON' }
  }
}

function parseToml(text: string): Parsed {
  const toml = load('smol-toml') as TomlModule
  try {
    return { ok: true, data: toml.parse(text), lineOf: (path) => tomlLine(text, path) }
  } catch (error) {
    const { line, message } = error as { line?: number; message: string }
    return { ok: false, line, reason: `not valid TOML: ${message.split('\n')[0]}` }
  }
}

/** Finds `key = …` under its `[table]` header, or the header itself. Good enough for error messages. */
function tomlLine(text: string, path: readonly string[]): number | undefined {
  const unquote = (part: string) => part.trim().replace(/^["']|["']$/g, '')
  const target = path.join('.')
  let table: string[] = []
  const lines = text.split('\n')
  for (const [index, line] of lines.entries()) {
    const header = /^\s*\[\[?([^\]]+)\]\]?\s*(?:#.*)?$/.exec(line)
    if (header) {
      table = (header[1] as string).split('.').map(unquote)
      if (table.join('.') === target) return index + 1
      continue
    }
    const assignment = /^\s*([A-Za-z0-9_\-."' ]+?)\s*=/.exec(line)
    if (assignment && [...table, ...(assignment[1] as string).split('.').map(unquote)].join('.') === target)
      return index + 1
  }
  return undefined
}

export interface DotenvValue {
  value: string
  line: number
}

/**
 * A .env file: `NAME=value`, optional `export `, `#` comments, single quotes (literal) and
 * double quotes (with \n, \t, \" and \\ escapes, may span lines). Malformed lines are reported
 * by number only.
 */
export function parseDotenv(text: string): { values: Map<string, DotenvValue>; badLines: number[] } {
  const values = new Map<string, DotenvValue>()
  const badLines: number[] = []
  const lines = text.split(/\r?\n/)
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string
    if (/^\s*(?:#.*)?$/.test(line)) continue
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s?(.*)$/.exec(line)
    if (!match) {
      badLines.push(index + 1)
      continue
    }
    const name = match[1] as string
    const start = index + 1
    let rest = match[2] as string
    let value: string
    if (rest.startsWith('"')) {
      // A double-quoted value may continue on the following lines until its closing quote.
      rest = rest.slice(1)
      while (!/(?:^|[^\\])(?:\\\\)*"/.test(rest) && index + 1 < lines.length) rest += `\n${lines[++index]}`
      const end = closingQuote(rest)
      if (end < 0 || !/^\s*(?:#.*)?$/.test(rest.slice(end + 1))) {
        badLines.push(start)
        continue
      }
      value = rest
        .slice(0, end)
        .replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c)
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1)
      if (end < 0 || !/^\s*(?:#.*)?$/.test(rest.slice(end + 1))) {
        badLines.push(start)
        continue
      }
      value = rest.slice(1, end)
    } else {
      value = rest.replace(/\s+#.*$/, '').trim()
    }
    values.set(name, { value, line: start })
  }
  return { values, badLines }
}

function closingQuote(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return -1
}

/** A secret file's content without its trailing newline (editors and `echo` add one). */
export function readSecretFile(path: string): { ok: true; value: string } | { ok: false; reason: string } {
  try {
    return { ok: true, value: readFileSync(path, 'utf8').replace(/\r?\n$/, '') }
  } catch (error) {
    return { ok: false, reason: unreadable(error) }
  }
}

function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'does not exist'
  if (code === 'EACCES') return 'cannot be read (permission denied)'
  if (code === 'EISDIR') return 'is a directory'
  return `cannot be read (${code ?? 'error'})`
}

/**
 * The files git tracks under `cwd`, or those of `paths` it tracks (taken literally, not as
 * patterns); undefined when `cwd` is not in a git work tree or git is missing. The one place
 * shipshape asks git: config for secret files, `check --deploy` for secrets in tracked files.
 */
export function gitTrackedFiles(cwd: string, paths: readonly string[] = []): string[] | undefined {
  try {
    // Loaded here: only a secret read from a file, or the deploy checks, need it.
    const { execFileSync } = process.getBuiltinModule('node:child_process')
    const output = execFileSync(
      'git',
      ['--literal-pathspecs', 'ls-files', '-z', '--cached', '--', ...paths],
      {
        cwd,
        encoding: 'buffer',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 256 * 1024 * 1024,
      },
    )
    return output.toString('utf8').split('\0').filter(Boolean)
  } catch {
    return undefined
  }
}

/** Whether git tracks the file: a secret in it would be in every clone of the repository. */
export function trackedByGit(path: string): boolean {
  // Not tracked, not a repository, or no git: nothing is committed.
  return (gitTrackedFiles(dirname(path), [basename(path)])?.length ?? 0) > 0
}

/** Walks the file against the declaration: values by key, and unknown keys with a did-you-mean. */
export function collectFileValues(
  declaration: Declaration,
  file: ConfigFile,
  label: string,
  into: Map<string, unknown>,
  problems: Problem[],
) {
  const where = (path: string[]) => {
    const line = file.lineOf(path)
    return `${label}${line ? `:${line}` : ''}`
  }
  const walk = (shape: Shape, data: Record<string, unknown>, path: string[]) => {
    for (const [key, value] of Object.entries(data)) {
      const childPath = [...path, key]
      const child = shape[key]
      // An empty key (`timeout:` in YAML, null in JSON) means unset, as in a sample not yet filled in.
      if (value === null) continue
      if (child instanceof Setting) {
        into.set(childPath.join('.'), value)
      } else if (child !== undefined) {
        if (typeof value !== 'object' || Array.isArray(value)) {
          problems.push({
            key: childPath.join('.'),
            source: where(childPath),
            expected: 'a section of settings (a mapping)',
            found: show(value),
          })
          continue
        }
        walk(
          child instanceof Group ? child.shape : (child as Shape),
          value as Record<string, unknown>,
          childPath,
        )
      } else {
        const sibling = closest(key, Object.keys(shape))
        const elsewhere = declaration.entries.find(
          (entry) => entry.path[entry.path.length - 1]?.toLowerCase() === key.toLowerCase(),
        )
        // A key written at the wrong level (`timeout` instead of `server.timeout`) beats a near miss.
        const guess = elsewhere ? elsewhere.key : sibling ? [...path, sibling].join('.') : undefined
        problems.push({
          key: childPath.join('.'),
          source: where(childPath),
          expected: path.length ? `a key of ${path.join('.')}` : 'a known key',
          found: 'an unknown key',
          hint: guess ? `did you mean ${guess}?` : 'it is not a setting; `config docs` lists every key',
        })
      }
    }
  }
  walk(declaration.shape, file.data, [])
}
