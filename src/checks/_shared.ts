/** What several subject files need: the settings or a skip, URLs from variables, masking, paths. */
import { relative, sep } from 'node:path'
import { parseCsp } from '../scan/index.js'
import { type CheckedVariable, readVariable } from './_variables.js'
import { type CheckContext, type CheckSettings, Skip } from './types.js'

export function needsSettings(context: CheckContext): CheckSettings | Skip {
  return context.settings ?? new Skip('the serve options do not resolve (see server-options)')
}

/**
 * A connection URL from a variable (read as serve reads it), or findings: what config reports
 * about the variable, or why the value does not parse (never echoing it).
 */
export function readUrl(context: CheckContext, name: CheckedVariable): URL | string[] | undefined {
  const { value, problems } = readVariable(context, name)
  if (problems.length > 0) return problems
  if (value === undefined) return undefined
  try {
    return new URL(value)
  } catch {
    return [`${name} is not a URL (${mask(value)}), so the connection will fail at start-up`]
  }
}

/** Enough of a secret to find it, not enough to use it. */
export function mask(secret: string): string {
  if (secret.startsWith('-----')) return secret
  // A quarter of it at most, so a short password is not half given away.
  return `${secret.slice(0, Math.min(4, Math.floor(secret.length / 4)))}… ${secret.length} characters`
}

export function within(child: string, parent: string): boolean {
  const path = relative(parent, child)
  return path === '' || (!path.startsWith('..') && !path.startsWith(sep) && path !== '..')
}

/** A policy's directives, parsed as `shipshape scan` parses the live one; none when it does not parse. */
export function directivesOf(policy: string): Map<string, Set<string>> {
  if (policy.trim() === '') return new Map()
  try {
    return parseCsp([policy]).directives
  } catch {
    return new Map()
  }
}

/** At most this many findings are listed one by one; the rest are counted. */
const listed = 20

export function capped(findings: string[]): string[] {
  if (findings.length <= listed) return findings
  return [...findings.slice(0, listed), `… and ${findings.length - listed} more like these`]
}
