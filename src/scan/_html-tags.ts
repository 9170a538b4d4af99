/**
 * Finds the <script> and <meta> elements of an HTML page, which is all `shipshape scan` needs from
 * a body (subresource integrity, CSP and referrer policy set in <meta>). parse5 parses the page as
 * the WHATWG HTML standard says browsers do (it is the parser behind jsdom, which the Observatory
 * reads pages with), so comments, raw-text elements, quoting and character references are read as a
 * browser reads them: a mis-tokenised page would change a security grade. htmlparser2 is faster
 * but forgiving rather than standard, which is the wrong trade here; a page is parsed once per scan.
 */
import { type DefaultTreeAdapterMap, parse } from 'parse5'

export interface HtmlTag {
  name: 'script' | 'meta'
  /** Attribute names lower-cased; the first of a repeated attribute wins, as in HTML. */
  attributes: Map<string, string>
  /** A script's text (its inline code), as the browser hashes it; '' for a meta. */
  text: string
}

type ParsedNode = DefaultTreeAdapterMap['childNode']

/** Every <script> and <meta> element, in document order (template contents excluded, as in a DOM query). */
export function findTags(html: string): HtmlTag[] {
  const tags: HtmlTag[] = []
  const visit = (nodes: readonly ParsedNode[]) => {
    for (const node of nodes) {
      if (!('tagName' in node)) continue
      if (node.tagName === 'script' || node.tagName === 'meta')
        tags.push({
          name: node.tagName,
          attributes: new Map(node.attrs.map((attribute) => [attribute.name, attribute.value])),
          text: node.childNodes.map((child) => ('value' in child ? child.value : '')).join(''),
        })
      visit(node.childNodes)
    }
  }
  visit(parse(html).childNodes)
  return tags
}
