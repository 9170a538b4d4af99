/**
 * Grouping events into issues, in Sentry's order: an explicit fingerprint (where `{{ default }}`
 * stands for the default grouping), else the in-app frames, else the exception type plus its
 * message with the variable parts taken out, else the message. Line numbers never count, so a
 * deploy that shifts lines keeps its issues; the failing line's own text does, so two throws in
 * one function are two issues.
 */
import { createHash } from 'node:crypto'
import type { Frame } from './_stack.js'

export interface Groupable {
  type?: string
  message: string
  frames: Frame[]
  fingerprint?: readonly string[]
}

export interface Grouping {
  /** The issue's id: 16 hex characters, the same on every instance and every deploy. */
  issue: string
  /** What decided the group: `fingerprint`, `stack`, `exception` or `message`. */
  basis: 'fingerprint' | 'stack' | 'exception' | 'message'
}

// Bugsink's v2 rules, most specific first: each variable part becomes a placeholder.
const rules: [RegExp, string][] = [
  [/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '<str>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, '<email>'],
  [/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g, '<date>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '<ip>'],
  [/(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{1,4}\b/gi, '<ip>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  [/\b\d+(?:\.\d+)?\b/g, '<int>'],
]

/** The message with its ids, UUIDs, e-mails, dates, IPs, hex, numbers and quoted strings replaced. */
export function normaliseMessage(message: string): string {
  let text = message.slice(0, 1000)
  for (const [pattern, placeholder] of rules) text = text.replace(pattern, placeholder)
  return text
}

function defaultParts(event: Groupable): { basis: Grouping['basis']; parts: string[] } {
  const inApp = event.frames.filter((frame) => frame.in_app)
  if (inApp.length > 0) {
    const top = inApp[inApp.length - 1] as Frame
    const parts = inApp.map((frame) => `${frame.module}:${frame.function}`)
    // The failing line's text (trimmed, normalised) tells two throws in one function apart.
    if (top.context_line !== undefined) parts.push(normaliseMessage(top.context_line.trim()))
    if (event.type) parts.unshift(event.type)
    return { basis: 'stack', parts }
  }
  if (event.type) return { basis: 'exception', parts: [event.type, normaliseMessage(event.message)] }
  return { basis: 'message', parts: [normaliseMessage(event.message)] }
}

export function groupingOf(event: Groupable): Grouping {
  const own = defaultParts(event)
  let basis = own.basis
  let parts = own.parts
  if (event.fingerprint && event.fingerprint.length > 0) {
    basis = 'fingerprint'
    parts = event.fingerprint.flatMap((part) => (/^\{\{\s*default\s*\}\}$/.test(part) ? own.parts : [part]))
  }
  const issue = createHash('sha256')
    .update(JSON.stringify([basis === 'fingerprint', parts]))
    .digest('hex')
  return { issue: issue.slice(0, 16), basis }
}
