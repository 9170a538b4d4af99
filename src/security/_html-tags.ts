/**
 * Finds the <script> and <meta> tags of an HTML page, which is all `shipshape scan` needs from a
 * body (subresource integrity, CSP and referrer policy set in <meta>). A small tokenizer, not a
 * DOM: it follows the HTML rules that decide where a tag can start (comments, raw-text elements
 * such as <script> and <style>, quoted attributes) and decodes character references in values.
 */

export interface HtmlTag {
  name: 'script' | 'meta'
  /** Attribute names lower-cased; the first of a repeated attribute wins, as in HTML. */
  attributes: Map<string, string>
}

/** Elements whose content is text up to their end tag: a `<script` inside them is not a tag. */
const rawText = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes'])

const namedReferences: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
}

/** Every <script> and <meta> start tag, in document order. */
export function findTags(html: string): HtmlTag[] {
  const tags: HtmlTag[] = []
  let at = 0
  while (at < html.length) {
    const open = html.indexOf('<', at)
    if (open === -1) break
    if (html.startsWith('<!--', open)) {
      const close = html.indexOf('-->', open + 4)
      at = close === -1 ? html.length : close + 3
      continue
    }
    if (html[open + 1] === '!' || html[open + 1] === '?' || html[open + 1] === '/') {
      const close = html.indexOf('>', open + 1)
      at = close === -1 ? html.length : close + 1
      continue
    }
    const nameMatch = /^[a-zA-Z][^\s/>]*/.exec(html.slice(open + 1, open + 65))
    if (!nameMatch) {
      at = open + 1
      continue
    }
    const name = nameMatch[0].toLowerCase()
    const { attributes, end } = readAttributes(html, open + 1 + nameMatch[0].length)
    if (name === 'script' || name === 'meta') tags.push({ name, attributes })
    at = end
    if (rawText.has(name)) {
      const close = new RegExp(`</${name}[\\s/>]`, 'i').exec(html.slice(at))
      at = close === null ? html.length : at + close.index
    }
  }
  return tags
}

function readAttributes(html: string, from: number): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>()
  let at = from
  while (at < html.length) {
    while (at < html.length && /[\s/]/.test(html[at] as string)) at++
    if (at >= html.length) break
    if (html[at] === '>') return { attributes, end: at + 1 }
    let nameEnd = at + 1
    while (nameEnd < html.length && !/[\s/>=]/.test(html[nameEnd] as string)) nameEnd++
    const name = html.slice(at, nameEnd).toLowerCase()
    at = nameEnd
    while (at < html.length && /\s/.test(html[at] as string)) at++
    let value = ''
    if (html[at] === '=') {
      at++
      while (at < html.length && /\s/.test(html[at] as string)) at++
      const quote = html[at]
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, at + 1)
        const stop = close === -1 ? html.length : close
        value = html.slice(at + 1, stop)
        at = stop + 1
      } else {
        let stop = at
        while (stop < html.length && !/[\s>]/.test(html[stop] as string)) stop++
        value = html.slice(at, stop)
        at = stop
      }
    }
    if (!attributes.has(name)) attributes.set(name, decodeReferences(value))
  }
  return { attributes, end: html.length }
}

function decodeReferences(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, reference: string) => {
    if (reference[0] === '#') {
      const code =
        reference[1] === 'x' || reference[1] === 'X'
          ? Number.parseInt(reference.slice(2), 16)
          : Number.parseInt(reference.slice(1), 10)
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd'
    }
    return namedReferences[reference.toLowerCase()] ?? whole
  })
}
