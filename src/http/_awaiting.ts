/**
 * Where a timed-out request was awaiting, when one can be had. Node cannot give the stack of a
 * pending promise. But an app that passes the request's signal on (fetch, timers/promises, most
 * clients) has that promise rejected at the abort, and each async function awaiting it then
 * settles in turn, in the request's async context: a stack taken as the first of them settles
 * names that function and its callers, each at the line of its `await` (V8's async stack
 * traces). The innermost line is the `await` itself when the awaited promise is settled by
 * JavaScript (fetch: undici's async functions settle first), and the end of the awaiting
 * function when Node settles it from native code (timers/promises). Promise hooks slow
 * every promise of the process while installed, so they are on only from the abort until that
 * stack is found or `watchMs` has passed, for one request at a time. An app that ignores the
 * signal (a promise that never settles, a client without a signal) gives no stack.
 */
import { fileURLToPath } from 'node:url'
import { promiseHooks } from 'node:v8'

/** How long after the abort a stack is waited for: a rejection runs through its awaits within microtasks. */
const watchMs = 50
/** shipshape's own code (this module, the pipeline): its frames say nothing of the app. */
const shipshapeDir = fileURLToPath(new URL('..', import.meta.url))
/** A frame in a file: "at fn (/path:1:2)", "at async fn (file:///path:1:2)", "at /path:1:2"; not node:, not <anonymous>. */
const fileFrame = /^\s+at (?:.+ \()?(?:file:\/\/)?(\/.+):\d+:\d+\)?$/
const isAppFrame = (line: string) => {
  const path = fileFrame.exec(line)?.[1]
  return path !== undefined && !path.startsWith(shipshapeDir)
}

/**
 * A watcher for one pipeline: `watch(inRequest, abort, report)` installs the hook, runs `abort`,
 * and calls `report` once, with the app's frames of the first promise of the request
 * (`inRequest()` is true in its context) that settles with any on its stack, or with undefined.
 */
export function awaitingWatcher() {
  let watching = false
  return function watch(inRequest: () => boolean, abort: () => void, report: (stack?: string) => void): void {
    if (watching) {
      // Another timeout is being watched: this one is reported without a stack (same route, same issue).
      abort()
      report()
      return
    }
    watching = true
    let done = false
    const finish = (stack?: string) => {
      if (done) return
      done = true
      stop()
      clearTimeout(timer)
      watching = false
      report(stack)
    }
    const stop = promiseHooks.onSettled(() => {
      if (done || !inRequest()) return
      const app = (new Error().stack ?? '').split('\n').filter(isAppFrame)
      if (app.length > 0) finish(app.join('\n'))
    })
    const timer = setTimeout(finish, watchMs)
    timer.unref()
    try {
      abort()
    } catch (error) {
      finish()
      throw error
    }
  }
}

/** The timeout as the tracker takes it: a message, or an error whose stack is where the app was awaiting. */
export function timeoutEvent(elapsedMs: number, stack?: string): string | Error {
  const message = `request timed out after ${elapsedMs} ms`
  if (stack === undefined) return message
  const error = new Error(message)
  error.name = 'RequestTimeout'
  error.stack = `RequestTimeout: ${message}\n${stack}`
  return error
}
