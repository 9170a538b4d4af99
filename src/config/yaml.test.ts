/** The YAML fast path reads its subset exactly as the `yaml` package does, and leaves the rest to it. */
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { parseSimpleYaml } from './_yaml.js'

const inSubset = [
  'a: 1\nb: two\n',
  '# comment\nserver:\n  workers: 4   # trailing comment\n  timeout: 30s\n\n  bind: 0.0.0.0:8000\nstatic:\n  root: dist/static\n',
  'a: "quoted # not a comment"\nb: \'it\'\'s\'\nc: "esc\\n\\t\\u00e9\\"/"\n',
  'list: [a, b, c]\nempty: []\nnums: [1, -2, 3.5]\nbools: [true, no]\n',
  'n: ~\nm: null\nt: True\nf: FALSE\nyes: yes\ni: -12\np: +7\nfl: 1.5e3\ndot: .5\nbig: 12345678901234567890\n',
  'a:\nb:\n  c:\n    d: 1\n  e: 2\nf: 3\n',
  'url: https://example.com/path?x=1#frag\ntime: 12:30\nver: 1.2.3\n',
  'a: 1\r\nb:\r\n  c: 2\r\n',
  'key_with-dash: v\n',
  'deep:\n    four: 4\n    more:\n      x: y\n',
]

const outsideSubset = [
  'list:\n  - a\n  - b\n',
  'a: &anchor 1\nb: *anchor\n',
  'text: |\n  multi\n  line\n',
  'hex: 0x10\n',
  'inf: .inf\n',
  'a: 1\na: 2\n',
  '"quoted key": 1\n',
  '---\na: 1\n',
  'a:\n  b: 1\n c: 2\n',
  'a: {b: 1}\n',
  'a: [x, "y"]\n',
  'a: b: c\n',
  'a:\tb\n',
  '\ta: 1\n',
  'a: !!str 1\n',
  'a: "unterminated\n',
  'a: x # c\n  b: 1\n',
  // Found by yaml-fuzz.test.ts: keys YAML reads as null or a boolean, a comment with no space before it.
  'null: 1\n',
  'true: 1\n',
  'a: ""#c\n',
  'a: [b]#c\n',
]

describe('YAML fast path', () => {
  it.each(inSubset)('reads %j exactly as the yaml package does', (text) => {
    const fast = parseSimpleYaml(text)
    expect(fast).toBeDefined()
    expect(fast?.data).toEqual(parse(text) ?? {})
  })

  it.each(outsideSubset)('leaves %j to the yaml package', (text) => {
    expect(parseSimpleYaml(text)).toBeUndefined()
  })

  it('records the line of every key', () => {
    const fast = parseSimpleYaml('# top\nserver:\n\n  workers: 4\nstatic:\n  root: x\n')
    expect(Object.fromEntries(fast?.lines ?? [])).toEqual({
      server: 2,
      'server.workers': 4,
      static: 5,
      'static.root': 6,
    })
  })
})
