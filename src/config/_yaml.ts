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

interface Frame {
  indent: number
  map: Record<string, unknown>
  path: string[]
  /** The indentation of this mapping's keys, fixed by its first key. */
  keyIndent: number | undefined
}

export function parseSimpleYaml(text: string): SimpleYaml | undefined {
  const root: Frame = { indent: -1, map: {}, path: [], keyIndent: undefined }
  const stack: Frame[] = [root]
  const lines = new Map<string, number>()
  // A key with nothing after it: a nested mapping if the next key is deeper, else null.
  let open: { frame: Frame; key: string; indent: number } | undefined
  const source = text.split('\n')
  for (let index = 0; index < source.length; index++) {
    const line = (source[index] as string).replace(/\r$/, '')
    if (comment.test(line)) continue
    const match = keyLine.exec(line)
    if (!match) return undefined
    const indent = (match[1] as string).length
    const key = match[2] as string
    // `null:`, `true:` are keys of another type to YAML (which then names them '' and 'true').
    if (plain(key)?.value !== key) return undefined
    const rest = match[3]
    if (open) {
      if (indent > open.indent) {
        const map: Record<string, unknown> = {}
        open.frame.map[open.key] = map
        stack.push({ indent: open.indent, map, path: [...open.frame.path, open.key], keyIndent: undefined })
      }
      open = undefined
    }
    while (stack.length > 1 && (stack[stack.length - 1] as Frame).indent >= indent) stack.pop()
    const frame = stack[stack.length - 1] as Frame
    frame.keyIndent ??= indent
    if (frame.keyIndent !== indent || Object.hasOwn(frame.map, key)) return undefined
    lines.set([...frame.path, key].join('.'), index + 1)
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
  const quoted = doubleQuoted.exec(text) ?? singleQuoted.exec(text)
  if (quoted) {
    if (!afterValue.test(text.slice(quoted[0].length))) return undefined
    const value = text.startsWith('"')
      ? (JSON.parse(`"${quoted[1]}"`) as string)
      : (quoted[1] as string).replaceAll("''", "'")
    return { value }
  }
  const list = flowList.exec(text)
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
  if (/^(?:~|null|Null|NULL)$/.test(text)) return { value: null }
  if (/^(?:true|True|TRUE)$/.test(text)) return { value: true }
  if (/^(?:false|False|FALSE)$/.test(text)) return { value: false }
  if (/^[-+]?(?:\.\d+|\d+(?:\.\d*)?)(?:[eE][-+]?\d+)?$/.test(text)) return { value: Number(text) }
  return { value: text }
}
