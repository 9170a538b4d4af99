/**
 * Stack traces as Sentry's event format has them: frames parsed from V8's text, oldest call first,
 * each marked in-app or not, with a few lines of source around it. Workers turn on Node's source
 * maps (process.setSourceMapsEnabled), so a compiled app's frames already name its TypeScript
 * files and lines; frames that still point at a .js file with a map are mapped here too.
 */
import { readFile } from 'node:fs/promises'
import { findSourceMap } from 'node:module'
import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Frame {
  filename: string
  abs_path: string
  function: string
  module: string
  lineno?: number
  colno?: number
  in_app: boolean
  context_line?: string
  pre_context?: string[]
  post_context?: string[]
}

/** Lines of source shown before and after the failing line, as Sentry's SDKs do. */
const contextLines = 3
/** Source files kept in memory for context lines; a busy error burst reads each file once. */
const maxCachedFiles = 50
/** Files larger than this get no context lines: reading them would cost more than they tell. */
const maxSourceBytes = 1024 * 1024

// "    at fn (file:1:2)", "    at async fn (file:1:2)", "    at file:1:2", "    at new X (file:1:2)"
const framePattern = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/
/** shipshape's own compiled code (in a checkout; installed, it is under node_modules anyway). */
const shipshapeDist = fileURLToPath(new URL('../../dist/', import.meta.url))

/** The frames of `stack`, oldest call first (Sentry's order), at most 50 of them. */
export function parseStack(stack: string | undefined, root = process.cwd()): Frame[] {
  if (!stack) return []
  const frames: Frame[] = []
  for (const line of stack.split('\n')) {
    const match = framePattern.exec(line)
    if (!match) continue
    const [, fn = '', location = '', lineText, colText] = match
    const frame = makeFrame(fn, location, Number(lineText), Number(colText), root)
    if (frame) frames.push(frame)
    if (frames.length >= 50) break
  }
  return frames.reverse()
}

function makeFrame(fn: string, location: string, line: number, col: number, root: string): Frame | undefined {
  let path = location
  if (path.startsWith('file://')) {
    try {
      path = fileURLToPath(path)
    } catch {
      return undefined
    }
  }
  let lineno = line
  let colno = col
  // A .js frame the runtime did not map (source maps off when the module loaded): map it here.
  const map = path.startsWith('/') ? findSourceMap(path) : undefined
  if (map) {
    const entry = map.findEntry(line - 1, col - 1) as {
      originalSource?: string
      originalLine?: number
      originalColumn?: number
    }
    if (entry.originalSource) {
      path = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : entry.originalSource
      lineno = (entry.originalLine ?? 0) + 1
      colno = (entry.originalColumn ?? 0) + 1
    }
  }
  const internal = path.startsWith('node:') || !path.includes('/')
  const inApp = !internal && !path.includes(`${sep}node_modules${sep}`) && !path.startsWith(shipshapeDist)
  const filename = internal ? path : normaliseFile(path, root)
  return {
    filename,
    abs_path: path,
    function: normaliseFunction(fn),
    module: filename.replace(/\.[cm]?[jt]sx?$/, '').replaceAll('/', '.'),
    lineno,
    colno,
    in_app: inApp,
  }
}

/** A path relative to the app's root, without build hashes (app-3f2a9c1b.js) or a query string. */
function normaliseFile(path: string, root: string): string {
  const relativePath = path.startsWith(root) ? relative(root, path) : path
  return relativePath
    .split(sep)
    .join('/')
    .replace(/[?#].*$/, '')
    .replace(/[-.][0-9a-f]{8,}(?=\.[a-z]+$)/i, '')
}

function normaliseFunction(fn: string): string {
  return (
    fn
      .replace(/^async /, '')
      .replace(/^new /, '')
      // "Object.<anonymous>", "Array.map" stay; the bound/proxy noise does not.
      .replace(/^bound /, '')
      .replace(/ \[as .+\]$/, '') || '<anonymous>'
  )
}

/** A small LRU of source files: path → lines, or null when unreadable. */
export class SourceCache {
  private readonly files = new Map<string, Promise<string[] | null>>()

  lines(path: string): Promise<string[] | null> {
    let pending = this.files.get(path)
    if (pending) {
      this.files.delete(path)
      this.files.set(path, pending)
      return pending
    }
    pending = readFile(path, 'utf8').then(
      (text) => (text.length > maxSourceBytes ? null : text.split('\n')),
      () => null,
    )
    this.files.set(path, pending)
    if (this.files.size > maxCachedFiles) this.files.delete(this.files.keys().next().value as string)
    return pending
  }

  /** Adds context lines to the in-app frames (and the last frame) that have a readable source. */
  async addContext(frames: Frame[]): Promise<void> {
    await Promise.all(
      frames.map(async (frame, i) => {
        if ((!frame.in_app && i !== frames.length - 1) || frame.lineno === undefined) return
        if (!frame.abs_path.startsWith('/')) return
        const lines = await this.lines(frame.abs_path)
        const at = frame.lineno - 1
        if (!lines || at >= lines.length) return
        const clip = (text: string) => text.slice(0, 200)
        frame.context_line = clip(lines[at] as string)
        frame.pre_context = lines.slice(Math.max(0, at - contextLines), at).map(clip)
        frame.post_context = lines.slice(at + 1, at + 1 + contextLines).map(clip)
      }),
    )
  }
}
