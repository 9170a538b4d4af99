/**
 * `expectQueries`: a test's guard against N+1 loops and query-count regressions, like nplusone's
 * raise mode. The block's queries, through any instrumented pool, are counted in a scope of its
 * own, so the request context (or its absence) does not matter.
 */
import { ShipshapeError } from '../errors/index.js'
import { describeRepeated, type NPlusOne, type QueryStats, statsOfScope } from './_apm.js'
import { Scope, scopeStorage } from './_scope.js'

export interface ExpectQueriesOptions {
  /** Most queries the block may run. Default: no limit. */
  max?: number
  /** Runs of one fingerprint that make an N+1 (no time floor here). Default: 5, the APM's own. */
  nPlusOneCount?: number
}

export interface ExpectedQueries<T> extends QueryStats {
  result: T
}

/**
 * Runs `fn`, then throws SHIPSHAPE_E_N_PLUS_ONE if it ran one query `nPlusOneCount` times or
 * more, naming the query, the count and its call site, or SHIPSHAPE_E_TOO_MANY_QUERIES past
 * `max`. Otherwise resolves to fn's result and the block's figures.
 */
export async function expectQueries<T>(
  fn: () => T | Promise<T>,
  options: ExpectQueriesOptions = {},
): Promise<ExpectedQueries<T>> {
  const scope = new Scope()
  const result = await scopeStorage.run(scope, fn)
  const found: NPlusOne[] = scope.suspects(options.nPlusOneCount ?? 5, 0).map(describeRepeated)
  if (found.length > 0) {
    const lines = found.map(
      (n) =>
        `${n.count} × ${n.fingerprint} (${n.ms.toFixed(1)} ms) from ${n.callSite ?? 'an unknown call site'}`,
    )
    throw new ShipshapeError('SHIPSHAPE_E_N_PLUS_ONE', lines.join('; '))
  }
  if (options.max !== undefined && scope.queries > options.max) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_TOO_MANY_QUERIES',
      `${scope.queries} queries, at most ${options.max} expected`,
    )
  }
  return { result, ...statsOfScope(scope) }
}
