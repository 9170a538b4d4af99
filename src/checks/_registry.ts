/**
 * The deploy checklist: every check, in the order the report lists them, and how they run. A
 * capability adds a check by writing it in its subject's file and listing it here (ids are unique:
 * a test says so).
 */
import { availableParallelism } from 'node:os'
import { isShipshapeError } from '../errors/index.js'
import { adminAllowList, adminMfa, adminProtected, adminUsersMfa, consoleMfa } from './admin.js'
import { cacheShared } from './cache.js'
import { secureCookies } from './cookies.js'
import { databaseConnections, embeddedDatabaseInstances } from './database.js'
import { debugLogging, debugMode } from './debug.js'
import { deployFiles } from './deploy-files.js'
import { errorReporting } from './error-reporting.js'
import { lockfile, trackedSecrets } from './files.js'
import { contentTypeNosniff, csp, framing } from './headers.js'
import { allowedHosts } from './hosts.js'
import { hsts, hstsPreload, hstsSubdomains, httpsRedirect } from './https.js'
import { inlineScriptsAllowed } from './hydration.js'
import { privateStorage } from './media.js'
import { secretKey } from './secrets.js'
import { requestTimeout, serverOptions, workerCount } from './server.js'
import { databasePassword, databaseTls, redisAuth, redisTls } from './services.js'
import { staticManifest } from './static.js'
import { dependencyAudit } from './supply-chain.js'
import {
  type CheckContext,
  type CheckOutcome,
  type DeployCheck,
  type DeployReport,
  type RunOptions,
  Skip,
  severities,
} from './types.js'

export const deployChecks: readonly DeployCheck[] = Object.freeze([
  serverOptions,
  debugMode,
  debugLogging,
  secretKey,
  httpsRedirect,
  hsts,
  hstsSubdomains,
  hstsPreload,
  allowedHosts,
  secureCookies,
  framing,
  contentTypeNosniff,
  csp,
  inlineScriptsAllowed,
  requestTimeout,
  workerCount,
  deployFiles,
  staticManifest,
  privateStorage,
  databasePassword,
  databaseTls,
  embeddedDatabaseInstances,
  databaseConnections,
  redisAuth,
  redisTls,
  cacheShared,
  lockfile,
  dependencyAudit,
  trackedSecrets,
  adminProtected,
  adminMfa,
  adminAllowList,
  adminUsersMfa,
  consoleMfa,
  errorReporting,
])
/** Runs the checks; a check that throws fails with what it threw, rather than stopping the others. */
export async function runDeployChecks(context: CheckContext, options: RunOptions): Promise<DeployReport> {
  const catalogue = options.checks ?? deployChecks
  const silenced = new Set(options.silenced)
  const outcomes: CheckOutcome[] = []
  // A context of this run's own: what the checks read from it once (the variables) is read anew next run.
  const run = { ...context }
  for (const check of catalogue) {
    if (!options.deploy && !check.always) continue
    const base = {
      id: check.id,
      severity: check.severity,
      title: check.title,
      fix: check.fix,
      waitsOn: check.waitsOn,
    }
    if (silenced.has(check.id)) {
      outcomes.push({ ...base, status: 'silenced', findings: [] })
      continue
    }
    let result: string[] | Skip
    try {
      result = await check.run(run)
    } catch (error) {
      result = [`the check itself failed: ${isShipshapeError(error) ? error.message : String(error)}`]
    }
    if (result instanceof Skip)
      outcomes.push({ ...base, status: 'skipped', findings: [], reason: result.reason })
    else outcomes.push({ ...base, status: result.length > 0 ? 'failed' : 'passed', findings: result })
  }
  const counts = { error: 0, warning: 0, info: 0, passed: 0, skipped: 0, silenced: 0 }
  for (const outcome of outcomes) {
    if (outcome.status === 'failed') counts[outcome.severity]++
    else counts[outcome.status]++
  }
  const failing =
    options.failLevel === 'never' ? [] : severities.slice(0, severities.indexOf(options.failLevel) + 1)
  return {
    ready: outcomes.every((outcome) => outcome.status !== 'failed' || !failing.includes(outcome.severity)),
    failLevel: options.failLevel,
    counts,
    unknownSilenced: [...silenced].filter((id) => !catalogue.some((check) => check.id === id)),
    checks: outcomes,
  }
}

export function defaultCpus(): number {
  return availableParallelism()
}

/** The variable of the `checks.silenced` setting, read raw when the settings do not resolve. */
export const silencedVariable = 'SHIPSHAPE_SILENCED_CHECKS'
