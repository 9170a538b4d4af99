/**
 * The APM of one pool: what `instrumentPool` returns. It counts every query against the request
 * (or expectQueries block) that ran it, reports N+1 loops and slow queries with their call site,
 * and requests slower than their route's threshold, EXPLAINs slow SELECTs in the background for
 * index hints, keeps per-route figures and writes them to the database every minute. Everything
 * is held by this object: nothing module-level.
 */
import type pg from 'pg'
import { fillSlot, getContext, newSlot, slotOf } from '../http/index.js'
import { type Logger, tagsOf } from '../observe/index.js'
import type { FinishedRequest, Middleware, RequestContext } from '../types.js'
import { type ApmReport, ApmStore, type IndexHint } from './_apm-store.js'
import { callSite } from './_callsite.js'
import { Explainer } from './_explain.js'
import { FingerprintCache } from './_fingerprint.js'
import { type Accounting, type FinishedQuery, type InternalQuery, instrument } from './_instrument.js'
import { RouteTable } from './_routes.js'
import { type Repeated, Scope, scopeStorage } from './_scope.js'
import { type RouteThresholds, routeThresholdsOf } from './_thresholds.js'

declare module '../types.js' {
  interface WorkerState {
    /** The APM of the worker's pool: `queryStats()` reads a request's figures through it. */
    readonly apm?: { statsOf(ctx: RequestContext): QueryStats | undefined }
  }
}

export interface ApmOptions {
  /** Off: the pool is left as it is and requests pay nothing. Default: true. */
  enabled?: boolean
  /** A query taking at least this long is logged as slow and EXPLAINed. Default: 500 (django-debug-toolbar's). */
  slowQueryMs?: number
  /** A request taking at least this long is reported as slow (kept for its route's page). Default: 500. */
  slowRequestMs?: number
  /**
   * Thresholds of their own for some routes, by pattern (`/api/*`, `GET /health`: see
   * _thresholds.ts), in milliseconds. Default: none, every route has `slowRequestMs`.
   */
  routeThresholds?: Record<string, number>
  /** Runs of one fingerprint in one request that make an N+1. Default: 5 (Scout APM's). */
  nPlusOneCount?: number
  /** …and the total milliseconds they must take to be reported. Default: 150 in production (Scout's), else 0. */
  nPlusOneFloorMs?: number
  /** A fingerprint is EXPLAINed at most once per this interval. Default: 1 hour. */
  explainIntervalMs?: number
  /** Tables smaller than this get no index hint. Default: 10,000 rows. */
  hintMinRows?: number
  /** Put the parameters of slow queries on their log line. Default: false (they may hold personal data). */
  logParameters?: boolean
  /** How often per-route figures are written to the database; 0 never. Default: 60,000 (a minute). */
  rollupIntervalMs?: number
  /** Days of per-route figures kept in the database. Default: 14. */
  retentionDays?: number
  /** Days of the hourly rollup kept (the primary's, not the worker's: see _rollup.ts). Default: 30. */
  hourlyRetentionDays?: number
  /** Routes tracked at once; later ones are counted as `(other)`. Default: 500. */
  maxRoutes?: number
  logger: Logger
}

/** What one request (or expectQueries block) did with the database. */
export interface QueryStats {
  queries: number
  /** Milliseconds spent in queries, summed (overlapping queries each count in full). */
  dbMs: number
  /** Milliseconds spent waiting for a connection from the pool. */
  waitMs: number
  slowest: { fingerprint: string; ms: number } | undefined
}

/** One N+1 found: a fingerprint run `count` times from `callSite`. */
export interface NPlusOne {
  fingerprint: string
  fingerprintId: string
  count: number
  ms: number
  callSite: string | undefined
}

/** Slow fingerprints remembered, so that their later runs capture a call site. */
const maxKnownSlow = 1000
/** Reports held per window at most (a flood of slow queries costs memory no further). */
const maxReportsPerWindow = 500
/** Reports kept in the database at most, whatever the retention. */
const maxStoredReports = 50_000

const round = (ms: number) => Math.round(ms * 100) / 100

export class Apm {
  readonly options: Required<Omit<ApmOptions, 'logger' | 'hourlyRetentionDays'>>
  readonly routes: RouteTable
  /** Index hints found since start (also stored in the database). */
  readonly hints = new Map<string, IndexHint>()
  private readonly logger: Logger
  /** Each request's scope and slow queries, in slots of its context: this APM's own keys. */
  private readonly scopeSlot = newSlot<Scope>('apm scope')
  /** The scope of every request that ran no query: read, never written. */
  private readonly noQueries = new Scope()
  private readonly knownSlow = new Set<string>()
  private readonly internal: InternalQuery | undefined
  private readonly store: ApmStore | undefined
  private readonly explainer: Explainer | undefined
  private readonly timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  /** This window's reports, written with its per-route figures. */
  private reports: ApmReport[] = []
  /** Slow queries of requests still running: they learn their route when the request ends. */
  private readonly slowSlot = newSlot<ApmReport[]>('apm slow queries')
  private readonly thresholds: RouteThresholds
  /** Each route's threshold, matched once: at most maxRoutes of them (as many as the route table holds). */
  private readonly thresholdByRoute = new Map<string, number>()

  constructor(pool: pg.Pool, options: ApmOptions) {
    this.logger = options.logger
    this.thresholds = routeThresholdsOf(options)
    this.options = {
      enabled: options.enabled ?? true,
      slowQueryMs: options.slowQueryMs ?? 500,
      slowRequestMs: this.thresholds.defaultMs,
      routeThresholds: options.routeThresholds ?? {},
      nPlusOneCount: options.nPlusOneCount ?? 5,
      nPlusOneFloorMs: options.nPlusOneFloorMs ?? (process.env.NODE_ENV === 'production' ? 150 : 0),
      explainIntervalMs: options.explainIntervalMs ?? 3_600_000,
      hintMinRows: options.hintMinRows ?? 10_000,
      logParameters: options.logParameters ?? false,
      rollupIntervalMs: options.rollupIntervalMs ?? 60_000,
      retentionDays: options.retentionDays ?? 14,
      maxRoutes: options.maxRoutes ?? 500,
    }
    this.routes = new RouteTable(this.options.maxRoutes)
    if (!this.options.enabled) return
    const fingerprints = new FingerprintCache()
    const accounting: Accounting = {
      fingerprints,
      suspectAt: this.options.nPlusOneCount,
      currentScope: () => {
        const block = scopeStorage.getStore()
        if (block) return block
        const ctx = getContext()
        return ctx === undefined ? undefined : this.scopeOf(ctx)
      },
      isKnownSlow: (fingerprint) => this.knownSlow.has(fingerprint.id),
      slowQueryMs: this.options.slowQueryMs,
      slow: (query) => this.slow(query),
    }
    this.internal = instrument(pool, accounting)
    this.store = new ApmStore(this.internal)
    this.explainer = new Explainer(this.internal, {
      intervalMs: this.options.explainIntervalMs,
      hintMinRows: this.options.hintMinRows,
      logger: this.logger,
      onHint: (hint) => this.hint(hint),
      onPlan: (id, text, plan) =>
        this.store
          ? this.store
              .savePlan(id, text, plan)
              .catch((error: unknown) => this.logger.warn({ err: error }, 'could not store a plan'))
          : Promise.resolve(),
    })
    if (this.options.rollupIntervalMs > 0) {
      this.timer = setInterval(() => void this.rollup(), this.options.rollupIntervalMs).unref()
    }
  }

  /**
   * The per-request accounting middleware: provides the worker's `apm` and `finishRequest`. A
   * request's scope is opened by its first query, so one that runs none (a static file, a cached
   * page, a health check) pays for no scope.
   */
  middleware(): Middleware {
    const dbAccounting: Middleware = (_ctx, next) => next()
    return Object.assign(dbAccounting, {
      provides: {
        apm: this,
        finishRequest: (ctx: RequestContext, finished: FinishedRequest) => this.finish(ctx, finished),
      },
    })
  }

  /** What the request has done with the database so far; undefined if the APM does not see it. */
  statsOf(ctx: RequestContext): QueryStats | undefined {
    if (!this.options.enabled) return undefined
    return statsOfScope(slotOf(ctx, this.scopeSlot) ?? new Scope(ctx))
  }

  private scopeOf(ctx: RequestContext): Scope {
    let scope = slotOf(ctx, this.scopeSlot)
    if (scope === undefined) {
      scope = new Scope(ctx)
      fillSlot(ctx, this.scopeSlot, scope)
    }
    return scope
  }

  /** The N+1 suspects of a scope, by this APM's count and floor. */
  nPlusOnes(scope: Scope, floorMs = this.options.nPlusOneFloorMs): NPlusOne[] {
    return scope.suspects(this.options.nPlusOneCount, floorMs).map(describeRepeated)
  }

  /** Writes the closing window's per-route figures (and applies the retention); resolves when written. */
  rollup(): Promise<void> {
    const { since, stats } = this.routes.rotate()
    const until = new Date()
    const store = this.store
    if (store === undefined) return Promise.resolve()
    const reports = this.reports
    this.reports = []
    this.writing = this.writing
      .then(() => store.writeRoutes(since, until, stats, this.options.retentionDays))
      .then(() => store.writeReports(reports, this.options.retentionDays, maxStoredReports))
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'could not write the per-route APM figures'),
      )
    return this.writing
  }

  /** Stops the timer and writes the last window; EXPLAINs in flight finish first. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.explainer?.settled()
    if (this.options.rollupIntervalMs > 0) await this.rollup()
    await this.writing
  }

  private finish(
    ctx: RequestContext,
    { status, ms, route }: FinishedRequest,
  ): Record<string, unknown> | undefined {
    if (!this.options.enabled) return undefined
    const scope = slotOf(ctx, this.scopeSlot) ?? this.noQueries
    fillSlot(ctx, this.scopeSlot, undefined)
    const found = scope === this.noQueries ? [] : this.nPlusOnes(scope)
    // What a report of this request carries: made only when there is one to write.
    const base = () => ({ at: new Date(), method: ctx.method, route, requestId: ctx.id, tags: tagsOf(ctx) })
    for (const n of found) {
      this.logger.warn(
        { requestId: ctx.id, method: ctx.method, route, ...n, ms: round(n.ms) },
        `N+1 queries: ${n.count} runs of one query from ${n.callSite ?? 'an unknown call site'}`,
      )
      this.report({ ...base(), kind: 'n+1', ...n, ms: round(n.ms) })
    }
    for (const slow of slotOf(ctx, this.slowSlot) ?? [])
      this.report({ ...slow, method: ctx.method, route, tags: tagsOf(ctx) })
    // A request over its route's threshold: kept for the route's page, with its slowest query.
    if (ms >= this.thresholdOf(ctx.method, route))
      this.report({
        ...base(),
        kind: 'slow-request',
        fingerprint: scope.slowest?.fingerprint.text ?? '',
        fingerprintId: scope.slowest?.fingerprint.id ?? '',
        callSite: undefined,
        count: scope.queries,
        ms: round(ms),
      })
    this.routes.record({
      method: ctx.method,
      route,
      status,
      ms,
      queries: scope.queries,
      dbMs: scope.dbMs,
      nPlusOnes: found.length,
    })
    const fields: Record<string, unknown> = {
      route,
      dbQueries: scope.queries,
      dbMs: round(scope.dbMs),
      dbWaitMs: round(scope.waitMs),
    }
    if (scope.slowest) {
      fields.dbSlowest = scope.slowest.fingerprint.text.slice(0, 200)
      fields.dbSlowestMs = round(scope.slowest.ms)
    }
    return fields
  }

  /** The slow-request threshold of `method route`, in milliseconds: matched once per route. */
  private thresholdOf(method: string, route: string): number {
    const key = `${method} ${route}`
    let ms = this.thresholdByRoute.get(key)
    if (ms === undefined) {
      ms = this.thresholds.of(method, route).ms
      // Routes past the bound (counted as `(other)` by the route table) are matched each time.
      if (this.thresholdByRoute.size < this.options.maxRoutes) this.thresholdByRoute.set(key, ms)
    }
    return ms
  }

  private slow(query: FinishedQuery): void {
    const { fingerprint } = query
    if (this.knownSlow.size >= maxKnownSlow) this.knownSlow.clear()
    this.knownSlow.add(fingerprint.id)
    // The query's own request: pg's callbacks may run outside its async context.
    const ctx = query.scope?.ctx ?? getContext()
    const site = callSite(query.stack)
    const report: ApmReport = {
      at: new Date(),
      kind: 'slow-query',
      method: ctx?.method ?? '',
      route: '(outside a request)',
      fingerprint: fingerprint.text,
      fingerprintId: fingerprint.id,
      callSite: site,
      count: 1,
      ms: round(query.ms),
      requestId: ctx?.id ?? '',
    }
    if (ctx === undefined) this.report(report)
    else fillSlot(ctx, this.slowSlot, [...(slotOf(ctx, this.slowSlot) ?? []), report])
    this.logger.warn(
      {
        requestId: ctx?.id,
        fingerprint: fingerprint.text,
        fingerprintId: fingerprint.id,
        ms: round(query.ms),
        callSite: site,
        ...(this.options.logParameters ? { parameters: query.values } : {}),
      },
      `slow query: ${round(query.ms)} ms`,
    )
    if (!query.failed) this.explainer?.consider(fingerprint, query.sql)
  }

  private report(report: ApmReport): void {
    if (this.reports.length < maxReportsPerWindow) this.reports.push(report)
  }

  private async hint(hint: IndexHint): Promise<void> {
    this.hints.set(`${hint.schema}.${hint.table}(${hint.columns.join(',')})`, hint)
    await this.store
      ?.saveHint(hint)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not store an index hint'))
  }
}

export function statsOfScope(scope: Scope): QueryStats {
  return {
    queries: scope.queries,
    dbMs: scope.dbMs,
    waitMs: scope.waitMs,
    slowest: scope.slowest && { fingerprint: scope.slowest.fingerprint.text, ms: scope.slowest.ms },
  }
}

export function describeRepeated(entry: Repeated): NPlusOne {
  return {
    fingerprint: entry.fingerprint.text,
    fingerprintId: entry.fingerprint.id,
    count: entry.count,
    ms: entry.ms,
    callSite: callSite(entry.stack),
  }
}

/** Instruments `pool` (unless disabled) and returns its APM; put `apm.middleware()` in the pipeline. */
export function instrumentPool(pool: pg.Pool, options: ApmOptions): Apm {
  return new Apm(pool, options)
}
