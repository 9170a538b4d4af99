/**
 * Content-hashed names for collectstatic: each file is named after its content, dependencies
 * first, so a name covers the hashed names the file references (see hashInOrder).
 */
import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import type { Reference } from './_references.js'

/** One collected file, from reading to writing. */
export interface SourceFile {
  name: string
  path: string
  /** Named by a bundler with its own content hash: kept as it is, still immutable. */
  bundlerHashed: boolean
  kind: 'css' | 'js' | undefined
  /** The bytes as collected, held from reading to writing (absent for types never compressed). */
  data?: Buffer
  text?: string
  references: Reference[]
  /** Names this file references, resolved. */
  targets: string[]
  hash?: string
  hashedName?: string
  /** The content of the hashed copy, when rewriting changed it. */
  rewritten?: string
}

/**
 * Names every file after its content, dependencies first, so a file's hash covers the hashed
 * names it references: change an image and every stylesheet that uses it gets a new name too,
 * however deep the chain. Files in a reference cycle (ES modules may import each other) share
 * one hash of the whole cycle, made before the names inside it are written in.
 */
export function hashInOrder(files: Map<string, SourceFile>): void {
  for (const group of stronglyConnected(files)) {
    const members = group.map((name) => files.get(name) as SourceFile)
    const outside = (target: string) => !group.includes(target)
    for (const file of members) {
      if (file.bundlerHashed) file.hashedName = file.name
      else if (file.text !== undefined) file.rewritten = rewrite(file, files, outside)
    }
    const unnamed = members.filter((file) => file.hashedName === undefined)
    const only = unnamed[0] as SourceFile
    if (unnamed.length === 1 && !only.targets.includes(only.name)) {
      only.hash ??= digest(only.rewritten as string)
      only.hashedName = hashedName(only.name, only.hash)
    } else if (unnamed.length > 0) {
      const cycle = digest(unnamed.map((file) => `${file.name}\0${file.rewritten ?? file.hash}`).join('\0'))
      for (const file of unnamed) {
        file.hash = digest(`${cycle}\0${file.name}`)
        file.hashedName = hashedName(file.name, file.hash)
      }
      for (const file of unnamed)
        if (file.text !== undefined) file.rewritten = rewrite(file, files, () => true)
    }
    for (const file of members) {
      if (file.rewritten === file.text) file.rewritten = undefined
    }
  }
}

/** The file's text with the references `select` picks replaced by their hashed names. */
function rewrite(
  file: SourceFile,
  files: Map<string, SourceFile>,
  select: (target: string) => boolean,
): string {
  // Offsets are into the original text: rewrite from it, applying every reference named so far.
  const text = file.text as string
  if (file.references.length === 0) return text
  let result = ''
  let at = 0
  file.references.forEach((reference, i) => {
    const target = files.get(file.targets[i] as string) as SourceFile
    if (target.hashedName === undefined || !select(target.name)) return
    result += text.slice(at, reference.start) + renamed(reference.value, target.hashedName)
    at = reference.end
  })
  return result + text.slice(at)
}

/** The reference with its last path segment replaced by the hashed name's, keeping `?query#fragment`. */
function renamed(value: string, hashed: string): string {
  const cut = value.search(/[?#]/)
  const path = cut === -1 ? value : value.slice(0, cut)
  const suffix = cut === -1 ? '' : value.slice(cut)
  const slash = path.lastIndexOf('/')
  return path.slice(0, slash + 1) + encodeURIComponent(posix.basename(hashed)) + suffix
}

/** `css/app.css` → `css/app.3f2a9c1b7d4e.css`; `LICENSE` → `LICENSE.3f2a9c1b7d4e`. */
export function hashedName(name: string, hash: string): string {
  const slash = name.lastIndexOf('/')
  const dot = name.lastIndexOf('.')
  return dot > slash + 1 ? `${name.slice(0, dot)}.${hash}${name.slice(dot)}` : `${name}.${hash}`
}

/** 12 hex digits of MD5, as Django names files: a name, not a security boundary. */
export function digest(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex').slice(0, 12)
}

/**
 * Tarjan's strongly connected components, iteratively (a chain of thousands of imports must not
 * overflow the stack). Components come out dependencies first.
 */
function stronglyConnected(files: Map<string, SourceFile>): string[][] {
  const order = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const groups: string[][] = []
  let counter = 0
  for (const root of files.keys()) {
    if (order.has(root)) continue
    const work: [string, number][] = [[root, 0]]
    while (work.length > 0) {
      const frame = work[work.length - 1] as [string, number]
      const [name, edge] = frame
      if (edge === 0) {
        order.set(name, counter)
        low.set(name, counter)
        counter++
        stack.push(name)
        onStack.add(name)
      }
      const targets = (files.get(name) as SourceFile).targets
      if (edge < targets.length) {
        frame[1]++
        const target = targets[edge] as string
        if (!order.has(target)) work.push([target, 0])
        else if (onStack.has(target))
          low.set(name, Math.min(low.get(name) as number, order.get(target) as number))
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined)
        low.set(parent[0], Math.min(low.get(parent[0]) as number, low.get(name) as number))
      if (low.get(name) === order.get(name)) {
        const group: string[] = []
        let member: string
        do {
          member = stack.pop() as string
          onStack.delete(member)
          group.push(member)
        } while (member !== name)
        groups.push(group)
      }
    }
  }
  return groups
}
