/**
 * The loaded values as a tree: reading and writing by path, showing a value in a problem (never
 * a secret's), and sealing the result so that logging or serialising it cannot leak a secret.
 */

// Without node:util's ES module namespace, as the other builtins of config (see _load.ts).
const { inspect } = process.getBuiltinModule('node:util')

export const secretMask = '[secret]'
const shownLimit = 80

export function show(value: unknown): string {
  const text =
    typeof value === 'string' ? JSON.stringify(value) : inspect(value, { breakLength: Infinity, depth: 2 })
  return text.length > shownLimit ? `${text.slice(0, shownLimit - 1)}…` : text
}

/** Removes a secret's text from a message (a custom refinement may quote its input). */
export function scrub(message: string, raw: unknown): string {
  const text = typeof raw === 'string' ? raw : undefined
  return text && text.length >= 3 ? message.split(text).join(secretMask) : message
}

export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown) {
  let node = target
  for (const segment of path.slice(0, -1)) {
    node[segment] ??= {}
    node = node[segment] as Record<string, unknown>
  }
  node[path[path.length - 1] as string] = value
}

export function getPath(target: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = target
  for (const segment of path) node = (node as Record<string, unknown> | undefined)?.[segment]
  return node
}

/**
 * Freezes the loaded tree, and gives each object in it a `toJSON` and a `util.inspect` view with
 * secrets masked, so logging or serialising the settings cannot leak them.
 */
export function seal(
  node: Record<string, unknown>,
  secretKeys: ReadonlySet<string>,
  prefix: string,
): unknown {
  const masked = () => {
    const copy: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(node)) {
      const dotted = prefix + key
      copy[key] =
        secretKeys.has(dotted) && value !== undefined
          ? secretMask
          : isPlainObject(value) && !secretKeys.has(dotted)
            ? ((value as { toJSON?: () => unknown }).toJSON?.() ?? value)
            : value
    }
    return copy
  }
  for (const [key, value] of Object.entries(node)) {
    if (isPlainObject(value) && !secretKeys.has(prefix + key)) {
      node[key] = seal(value as Record<string, unknown>, secretKeys, `${prefix}${key}.`)
    } else if (value !== null && typeof value === 'object') {
      Object.freeze(value)
    }
  }
  Object.defineProperty(node, 'toJSON', { value: masked, enumerable: false })
  Object.defineProperty(node, inspect.custom, {
    value: (_depth: number, options: object) => inspect(masked(), options),
    enumerable: false,
  })
  return Object.freeze(node)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype
}
