/**
 * The call site of a query: the first frame of the app's own code, skipping shipshape's
 * instrumentation, pg, the query builder and anything else in node_modules, and Node's internals.
 * Capturing a stack costs about 4 µs, most of a query's accounting budget, so the APM captures
 * one only when it will report it (the 5th run of a fingerprint in a request, a query known slow).
 */
import { dirname, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Frames to skip are under this folder and named `_…` (the APM's private modules). */
const ownFolder = `${dirname(fileURLToPath(import.meta.url))}/_`
/** Deep enough to get through an ORM's async frames to the app's. */
const depth = 40

/** An unformatted stack: V8 formats it only if `.stack` is read, which `callSite` does. */
export interface CapturedStack {
  stack?: string
}

export function captureStack(): CapturedStack {
  const holder: CapturedStack = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = depth
  Error.captureStackTrace(holder, captureStack)
  Error.stackTraceLimit = limit
  return holder
}

/** `path:line:column (function)` of the first app frame, relative to the working directory; or undefined. */
export function callSite(captured: CapturedStack | undefined, cwd = process.cwd()): string | undefined {
  const lines = captured?.stack?.split('\n') ?? []
  for (const line of lines) {
    const match = /^\s*at (?:async )?(?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line)
    if (match === null) continue
    const [, fn, where, row, column] = match as unknown as [
      string,
      string | undefined,
      string,
      string,
      string,
    ]
    const file = where.startsWith('file://') ? fileURLToPath(where) : where
    if (!file.startsWith('/') || file.includes('/node_modules/')) continue
    if (file.startsWith(ownFolder) && !file.slice(ownFolder.length).includes('/')) continue
    const shown = file.startsWith(cwd) ? relative(cwd, file) : file
    return `${shown}:${row}:${column}${fn ? ` (${fn})` : ''}`
  }
  return undefined
}
