/**
 * State a capability keeps per request (the APM's scope, the breadcrumbs, the app's tags), held by
 * the request's context itself rather than by a WeakMap keyed by it. A context is young and a
 * capability's WeakMap lives as long as the worker: each entry is an ephemeron V8 must trace at
 * every young collection, about 1.5 µs a request for the APM's scope alone (bench/README.md,
 * console section). A slot's value goes with its context, and costs a Map entry on the first
 * value of a request that has one.
 */
import type { RequestContext } from '../types.js'
import { Context } from './_context.js'

/** The key of one kind of per-request state: made once per capability (or per instance of one). */
export interface Slot<T> {
  readonly name: string
  /** Never set: carries the value's type. */
  readonly value?: T
}

export function newSlot<T>(name: string): Slot<T> {
  return { name }
}

/** Contexts made elsewhere (a test's, a framework's own): kept the old way. */
const others = new WeakMap<RequestContext, Map<Slot<unknown>, unknown>>()

function slotsOf(ctx: RequestContext, create: boolean): Map<Slot<unknown>, unknown> | undefined {
  if (ctx instanceof Context) {
    if (create) ctx.slots ??= new Map()
    return ctx.slots
  }
  let slots = others.get(ctx)
  if (slots === undefined && create) {
    slots = new Map()
    others.set(ctx, slots)
  }
  return slots
}

/** The value request `ctx` holds in `slot`, if any. */
export function slotOf<T>(ctx: RequestContext, slot: Slot<T>): T | undefined {
  return slotsOf(ctx, false)?.get(slot) as T | undefined
}

/** Puts `value` in `slot` of request `ctx`; undefined empties it. */
export function fillSlot<T>(ctx: RequestContext, slot: Slot<T>, value: T | undefined): void {
  if (value === undefined) slotsOf(ctx, false)?.delete(slot)
  else slotsOf(ctx, true)?.set(slot, value)
}
