import { AsyncLocalStorage } from 'node:async_hooks'
import type { RequestContext } from '../types.js'

export const contextStorage = new AsyncLocalStorage<RequestContext>()

/** The context of the request being handled, or undefined outside a request. */
export function getContext(): RequestContext | undefined {
  return contextStorage.getStore()
}

/**
 * Adapters whose framework answers its own errors (Koa, Fastify) hand the error here, so it is
 * logged with its stack and request id like an error the pipeline caught itself.
 */
export function reportAppError(ctx: RequestContext | undefined, error: unknown): void {
  const report = (ctx as { reportError?: (error: unknown) => void } | undefined)?.reportError
  if (report) report.call(ctx, error)
  else console.error(error)
}
