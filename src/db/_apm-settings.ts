/**
 * The APM settings group (see docs/db-apm.md): what counts as a slow query and an N+1, how often
 * plans are asked for and figures written, how long they are kept, and the switch that turns
 * the whole accounting off. It becomes the ApmOptions (less the logger) every worker's pool is
 * instrumented with.
 */
import { z } from 'zod'
import { duration, group, type Infer, setting } from '../config/index.js'
import type { ApmOptions } from './_apm.js'
import { parsePattern } from './_thresholds.js'

const count = (min: number) => z.coerce.number().int().min(min)

/**
 * apm.routeThresholds: pattern → duration. A bad pattern's problem names it and says what is
 * wrong (zod's own words for a bad record key are only "Invalid key in record").
 */
const routeThresholds = z.record(
  z.string().superRefine((pattern, ctx) => {
    const parsed = parsePattern(pattern)
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed })
  }),
  duration(),
  { error: (issue) => (issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined) },
)

export const apmSettings = group(
  {
    enabled: setting(z.boolean(), {
      default: true,
      description:
        "Count every query of the worker's pool against its request, report N+1 loops, slow queries and missing indexes, and keep per-route figures. About 1 µs per query; off, the pool is left as pg made it and requests pay nothing.",
    }),
    slowQuery: setting(duration(), {
      default: '500ms',
      description:
        'A query taking at least this long is logged (fingerprint, duration, call site) and, if a SELECT, EXPLAINed in the background (see --apm-explain-interval).',
    }),
    slowRequest: setting(duration(), {
      default: '500ms',
      description:
        "A request taking at least this long is reported as slow: kept, with its slowest query, for its route's page in the console. Routes matched by apm.routeThresholds have their own threshold.",
    }),
    routeThresholds: setting(routeThresholds, {
      default: {},
      shownDefault: 'none',
      description:
        'Slow-request thresholds of their own for some routes, as a JSON object from route pattern to duration. A pattern is a route as the console names it (/api/users/:id), optionally after a method (GET /api/users/:id), and ends in * to match a prefix (/api/*). The most specific match wins: the longest path, then exact before prefix, then with a method before without; other routes use apm.slowRequest.',
      example: { '/api/*': '1s', 'GET /health': '50ms' },
    }),
    nPlusOneCount: setting(count(2), {
      default: 5,
      description:
        'Runs of one query (one fingerprint) in one request that make an N+1, reported once per request with the call site: Scout APM’s count.',
    }),
    nPlusOneFloor: setting(duration(), {
      shownDefault: '150ms with NODE_ENV=production (Scout APM’s floor), else 0',
      description:
        'An N+1 is reported only if its runs took at least this long in all, so that a loop of five 0.1 ms lookups is not noise in production. 0 reports every one (development, tests).',
    }),
    explainInterval: setting(duration(), {
      default: '1h',
      description:
        'A slow query is EXPLAINed (a generic plan: never EXPLAIN ANALYZE, never its parameters) at most once per fingerprint per this interval.',
    }),
    hintMinRows: setting(count(0), {
      default: 10_000,
      description:
        'A sequential scan with a filter yields an index hint only on a table with at least this many rows (pg_class.reltuples): scanning a small table is cheaper than an index.',
    }),
    logParameters: setting(z.boolean(), {
      default: false,
      description:
        "Put a slow query's parameters on its log line. Off by default: parameters hold e-mail addresses, names, tokens.",
    }),
    rollupInterval: setting(duration(), {
      default: '1m',
      description:
        'How often each worker writes its per-route figures (p50/p95/p99, throughput, error rate, database share, queries) to the shipshape_apm_routes table, created on demand. 0 never writes them.',
    }),
    retentionDays: setting(count(1), {
      default: 14,
      description:
        'Days of per-route figures (one row per route per worker per minute) kept in the database; older rows are deleted at each write.',
    }),
    hourlyRetentionDays: setting(count(7), {
      default: 30,
      description:
        "Days of the hourly rollup kept (shipshape_apm_route_hours: one row per route per hour, its latency buckets summed, about 400 bytes). The primary rolls each complete hour of the per-minute figures into it, and the console's 24 h and 7-day views read whole hours from it. At least 7, the console's longest view; 30 days of 50 routes is 36,000 rows.",
    }),
    maxRoutes: setting(count(1), {
      default: 500,
      description:
        'Routes tracked at once per worker (each about 1 KB); later ones are counted together as `(other)`, so a crawler cannot grow the table without bound.',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_APM_',
    flagPrefix: 'apm-',
    description:
      'The database APM: per-request query counts, N+1 and slow-query reports, index hints, per-route figures. See [db-apm.md](db-apm.md).',
  },
)

export type ApmSettings = Infer<typeof apmSettings.shape>

/** What the APM settings become for `shipshape serve`'s workers. */
export function apmOptions(settings: ApmSettings): { apm: Omit<ApmOptions, 'logger'> } {
  return {
    apm: {
      enabled: settings.enabled,
      slowQueryMs: settings.slowQuery,
      slowRequestMs: settings.slowRequest,
      routeThresholds: settings.routeThresholds,
      nPlusOneCount: settings.nPlusOneCount,
      ...(settings.nPlusOneFloor === undefined ? {} : { nPlusOneFloorMs: settings.nPlusOneFloor }),
      explainIntervalMs: settings.explainInterval,
      hintMinRows: settings.hintMinRows,
      logParameters: settings.logParameters,
      rollupIntervalMs: settings.rollupInterval,
      retentionDays: settings.retentionDays,
      hourlyRetentionDays: settings.hourlyRetentionDays,
      maxRoutes: settings.maxRoutes,
    },
  }
}
