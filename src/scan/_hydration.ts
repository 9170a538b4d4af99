/**
 * Inline scripts the page's own policy would block. Not one of the Observatory's tests (it grades
 * nothing): a page whose framework bootstraps from an inline script without the response's nonce
 * or a listed hash never hydrates in a browser, while every header looks right. `check --deploy`
 * reports it. Sources are compared as written: nonces and hashes are case-sensitive.
 */
import { createHash } from 'node:crypto'
import type { HtmlTag } from './_html-tags.js'
import { isHtml } from './_responses.js'
import type { Retrieval } from './types.js'

export interface InlineScripts {
  /** Inline scripts on the page: script elements without src, of a JavaScript type, not empty. */
  inline: number
  /** The start of each one an enforced policy blocks (a browser would not run it). */
  blocked: string[]
}

export function inlineScripts(retrieval: Retrieval, tags: readonly HtmlTag[]): InlineScripts {
  if (retrieval.auto === null || !isHtml(retrieval.auto)) return { inline: 0, blocked: [] }
  const header = retrieval.auto.headers['content-security-policy']
  const policies = [header ?? []]
    .flat()
    .flatMap((value) => value.split(','))
    .concat(
      tags
        .filter((tag) => tag.attributes.get('http-equiv')?.toLowerCase() === 'content-security-policy')
        .map((tag) => tag.attributes.get('content') ?? ''),
    )
    .map(scriptSources)
  const inline = tags.filter(
    (tag) =>
      tag.name === 'script' && !tag.attributes.has('src') && tag.text.trim() !== '' && isJavaScript(tag),
  )
  const blocked = inline.filter((tag) => policies.some((sources) => !allows(sources, tag)))
  return {
    inline: inline.length,
    blocked: blocked.map((tag) => tag.text.trim().replaceAll(/\s+/g, ' ').slice(0, 60)),
  }
}

function isJavaScript(tag: HtmlTag): boolean {
  const type = tag.attributes.get('type')?.trim().toLowerCase()
  return type === undefined || type === '' || type === 'module' || type.includes('javascript')
}

/** The sources that govern inline scripts: script-src-elem, else script-src, else default-src; undefined: none. */
function scriptSources(policy: string): string[] | undefined {
  const directives = new Map<string, string[]>()
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources)
  }
  return directives.get('script-src-elem') ?? directives.get('script-src') ?? directives.get('default-src')
}

function allows(sources: string[] | undefined, tag: HtmlTag): boolean {
  if (sources === undefined) return true
  const nonce = tag.attributes.get('nonce')
  if (nonce && sources.includes(`'nonce-${nonce}'`)) return true
  for (const algorithm of ['sha256', 'sha384', 'sha512']) {
    if (sources.includes(`'${algorithm}-${createHash(algorithm).update(tag.text).digest('base64')}'`))
      return true
  }
  // 'unsafe-inline' counts only in a policy without nonces, hashes or 'strict-dynamic' (CSP Level 3).
  const overridden = sources.some((source) => /^'(nonce-|sha(256|384|512)-|strict-dynamic')/i.test(source))
  return sources.includes("'unsafe-inline'") && !overridden
}
