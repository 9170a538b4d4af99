/** What the pipeline builds once at start-up from its middleware: the chain, and the worker's state. */
import { ShipshapeError } from '../errors/index.js'
import type { AppHandler, Middleware, WorkerState } from '../types.js'

/** Middleware run in order around the app; the chain is built here once, never per request. */
export function compose(middleware: Middleware[], app: AppHandler): AppHandler {
  let chain = app
  for (let i = middleware.length - 1; i >= 0; i--) {
    const step = middleware[i] as Middleware
    const next = chain
    const name = step.name || `middleware #${i + 1}`
    // Not an async function: a step that returns next()'s promise (most do) hands it on as it
    // is, instead of wrapping it in a promise of its own and two more microtask turns per step.
    chain = (ctx) => {
      let called = false
      try {
        return Promise.resolve(
          step(ctx, () => {
            if (called) return Promise.reject(new Error(`${name} called next() more than once`))
            called = true
            return next(ctx)
          }),
        )
      } catch (error) {
        return Promise.reject(error)
      }
    }
  }
  return chain
}

/** The worker's state: the pipeline's own part, then what each middleware provides. */
export function mergedWorkerState(own: WorkerState | undefined, middleware: Middleware[]): WorkerState {
  const state: Record<string, unknown> = { ...own }
  for (const step of middleware) {
    for (const [slot, value] of Object.entries(step.provides ?? {})) {
      if (slot in state) {
        throw new ShipshapeError(
          'SHIPSHAPE_E_BAD_OPTION',
          `two parts of the pipeline provide the worker's ${slot} (the second is ${step.name || 'a middleware'}); keep one`,
        )
      }
      state[slot] = value
    }
  }
  return Object.freeze(state) as WorkerState
}
