/**
 * What the APM counts for one unit of work: a request (the accounting middleware opens one per
 * request) or a block of code under `expectQueries`. Queries find their scope when they start, in
 * the caller's async context: a connection checked out in a request belongs to that request.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { RequestContext } from '../types.js'
import type { CapturedStack } from './_callsite.js'
import type { Fingerprint } from './_fingerprint.js'

/** The runs of one fingerprint in one scope. */
export interface Repeated {
  readonly fingerprint: Fingerprint
  /** Runs started (a 5th start captures the call site). */
  started: number
  /** Runs finished, and their milliseconds. */
  count: number
  ms: number
  /** Where the app ran it from, captured at the run that made it a suspect. */
  stack?: CapturedStack
}

export class Scope {
  /** The request it counts; none for an expectQueries() block outside one. */
  constructor(readonly ctx?: RequestContext) {}

  queries = 0
  dbMs = 0
  waitMs = 0
  slowest: { fingerprint: Fingerprint; ms: number } | undefined
  readonly repeated = new Map<string, Repeated>()

  /** Counts a run starting; the caller captures its call site on the run that makes it a suspect. */
  start(fingerprint: Fingerprint): Repeated {
    let entry = this.repeated.get(fingerprint.id)
    if (entry === undefined) {
      entry = { fingerprint, started: 0, count: 0, ms: 0 }
      this.repeated.set(fingerprint.id, entry)
    }
    entry.started++
    return entry
  }

  finish(entry: Repeated, ms: number): void {
    this.queries++
    this.dbMs += ms
    entry.count++
    entry.ms += ms
    if (this.slowest === undefined || ms > this.slowest.ms)
      this.slowest = { fingerprint: entry.fingerprint, ms }
  }

  /** Fingerprints run at least `count` times taking at least `floorMs` in all: the N+1 suspects. */
  suspects(count: number, floorMs: number): Repeated[] {
    const found: Repeated[] = []
    for (const entry of this.repeated.values())
      if (entry.count >= count && entry.ms >= floorMs) found.push(entry)
    return found
  }
}

/** The scope of `expectQueries` blocks; requests' scopes are found through their context instead. */
export const scopeStorage = new AsyncLocalStorage<Scope>()
