/**
 * A fast path for the YAML most config files are: nested mappings of plain or quoted scalars and
 * flat lists, with comments. Loading the `yaml` package and parsing with it costs more than the
 * rest of loading put together, so a file in this subset is read here, with YAML 1.2 core-schema
 * meaning for every scalar. Anything else (block lists, anchors, multi-line strings, tags, hex
 * numbers, duplicate keys, tabs) returns undefined and goes to the `yaml` package, which also
 * gives the precise error for an invalid file.
 */

export interface SimpleYaml {
  data: Record<string, unknown>
  /** 1-based line of each key, by dotted path. */
  lines: Map<string, number>
}

const keyLine = /^( *)([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*?))?\s*$/
const comment = /^\s*(?:#.*)?$/
// After a value, a comment needs white space before its `#` (`"a"#b` is an error to YAML).
const afterValue = /^(?:\s*|\s+#.*)$/
const doubleQuoted = /^"((?:[^"\\\n]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*)"/
const singleQuoted = /^'((?:[^'\n]|'')*)'/
const flowList = /^\[([^[\]{}"'#]*)\]/

// Plain scalars that are not strings, looked up at once rather than tried as three patterns.
const keywords = new Map<string, unknown>([
  ['~', null],
  ['null', null],
  ['Null', null],
  ['NULL', null],
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['false', false],
  ['False', false],
  ['FALSE', false],
])

interface Frame {
  indent: number
  map: Record<string, unknown>
  /** The dotted path of this mapping with a trailing dot ('' at the top), the prefix of its keys' paths. */
  prefix: string
  /** The indentation of this mapping's keys, fixed by its first key. */
  keyIndent: number | undefined
}

export function parseSimpleYaml(text: string): SimpleYaml | undefined {
  const root: Frame = { indent: -1, map: {}, prefix: '', keyIndent: undefined }
  const stack: Frame[] = [root]
  const lines = new Map<string, number>()
  // A key with nothing after it: a nested mapping if the next key is deeper, else null.
  let open: { frame: Frame; key: string; indent: number } | undefined
  const source = text.split('\n')
  for (let index = 0; index < source.length; index++) {
    const raw = source[index] as string
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (comment.test(line)) continue
    const match = keyLine.exec(line)
    if (!match) return undefined
    const indent = (match[1] as string).length
    const key = match[2] as string
    // `null:`, `true:` are keys of another type to YAML (which then names them '' and 'true');
    // the key pattern leaves no other plain scalar that is not a string.
    if (keywords.has(key)) return undefined
    const rest = match[3]
    if (open) {
      if (indent > open.indent) {
        const map: Record<string, unknown> = {}
        open.frame.map[open.key] = map
        stack.push({
          indent: open.indent,
          map,
          prefix: `${open.frame.prefix}${open.key}.`,
          keyIndent: undefined,
        })
      }
      open = undefined
    }
    while (stack.length > 1 && (stack[stack.length - 1] as Frame).indent >= indent) stack.pop()
    const frame = stack[stack.length - 1] as Frame
    frame.keyIndent ??= indent
    if (frame.keyIndent !== indent || Object.hasOwn(frame.map, key)) return undefined
    lines.set(frame.prefix + key, index + 1)
    if (rest === undefined || rest === '' || rest.startsWith('#')) {
      frame.map[key] = null
      open = { frame, key, indent }
      continue
    }
    const value = scalarOrList(rest)
    if (value === undefined) return undefined
    frame.map[key] = value.value
  }
  return { data: root.map, lines }
}

function scalarOrList(text: string): { value: unknown } | undefined {
  // Each form is told by its first character; its pattern runs only then.
  const first = text[0]
  const quoted = first === '"' ? doubleQuoted.exec(text) : first === "'" ? singleQuoted.exec(text) : null
  if (quoted) {
    if (!afterValue.test(text.slice(quoted[0].length))) return undefined
    const value =
      first === '"' ? (JSON.parse(`"${quoted[1]}"`) as string) : (quoted[1] as string).replaceAll("''", "'")
    return { value }
  }
  const list = first === '[' ? flowList.exec(text) : null
  if (list) {
    if (!afterValue.test(text.slice(list[0].length))) return undefined
    const inner = (list[1] as string).trim()
    if (inner === '') return { value: [] }
    const items: unknown[] = []
    for (const item of inner.split(',')) {
      const value = plain(item.trim())
      if (value === undefined || item.trim() === '') return undefined
      items.push(value.value)
    }
    return { value: items }
  }
  const end = text.search(/\s#/)
  return plain((end < 0 ? text : text.slice(0, end)).trim())
}

/** A plain scalar as the YAML 1.2 core schema reads it; undefined for forms left to the full parser. */
function plain(text: string): { value: unknown } | undefined {
  // Indicators, `: ` and forms whose meaning is subtle (0x10, .inf) go to the full parser.
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(text) && !/^-\d/.test(text)) return undefined
  if (/: |:$|\s#|^[-+]?\.(?:inf|nan)$|^0[ox]/i.test(text)) return undefined
  if (keywords.has(text)) return { value: keywords.get(text) }
  if (/^[-+]?(?:\.\d+|\d+(?:\.\d*)?)(?:[eE][-+]?\d+)?$/.test(text)) return { value: Number(text) }
  return { value: text }
}
