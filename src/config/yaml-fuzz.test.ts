/**
 * The hand-written YAML subset is kept only because this differential test holds: thousands of
 * random documents, generated within the subset and at its edges, are read by the subset parser
 * and by the `yaml` package. Each document is either read identically (values and key lines), or
 * refused by the subset (undefined), which hands it to the `yaml` package; a document the subset
 * reads differently fails. Seeded, so a failure names the seed and case that reproduce it.
 */
import { describe, expect, it } from 'vitest'
import { isMap, isScalar, LineCounter, parse, parseDocument, type YAMLMap } from 'yaml'
import { parseSimpleYaml } from './_yaml.js'

/** mulberry32: a small, fast, seedable PRNG, so every run generates the same documents. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Random = () => number
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
const chance = (random: Random, p: number) => random() < p

// Keys include the words YAML gives a meaning (true, null, yes), which a config key may well be.
const keyWords = ['app', 'server', 'workers', 'timeout', 'a', 'B', '_x', 'max-age', 'yes', 'on', 'no_1']
const oddKeys = ['true', 'null', 'False', 'NULL']
const plainWords = [
  'hello',
  'two words',
  'app.js',
  '/static/',
  'https://example.com/a?b=1#c',
  '0.0.0.0:8000',
  '12:30',
  '1.2.3',
  'a-b_c',
  'é ü',
  'true',
  'False',
  'null',
  '~',
  '007',
  '1e3',
  '.5',
  '3.14',
  '12345678901234567890',
]
// Forms at or past the subset's edge: indicators, YAML's other number forms, look-alikes.
const edgeWords = [
  'x#y',
  'x: y',
  'x:y',
  'ends:',
  '-dash',
  '- item',
  '?q',
  '.hidden',
  '@at',
  '%pct',
  "it's",
  'say "hi"',
  '[notalist',
  'a, b',
  '*star',
  '&amp',
  '!bang',
  '|pipe',
  '>gt',
  'Null',
  'NULL',
  'nULL',
  'true',
  'True',
  'TRUE',
  'tRUE',
  'false',
  'yes',
  'no',
  'on',
  'off',
  '.inf',
  '-.Inf',
  '.nan',
  '0x1F',
  '0o17',
  '0b101',
  '1_000',
  '+12',
  '-0',
  '-2.5E-3',
  '5.',
  '1e',
  '--1',
]
const escapes = ['\\n', '\\t', '\\"', '\\\\', '\\/', '\\u00e9', '\\b', '\\x41', '\\q', '\\0']

function plainScalar(random: Random): string {
  if (chance(random, 0.3)) {
    const sign = pick(random, ['', '-', '+'])
    const digits = String(Math.floor(random() * 10 ** Math.floor(random() * 6)))
    const fraction = chance(random, 0.3) ? `.${Math.floor(random() * 1000)}` : ''
    const exponent = chance(random, 0.15)
      ? `e${pick(random, ['', '-', '+'])}${Math.floor(random() * 20)}`
      : ''
    return sign + digits + fraction + exponent
  }
  return pick(random, chance(random, 0.8) ? plainWords : edgeWords)
}

function doubleQuoted(random: Random): string {
  let text = ''
  const length = Math.floor(random() * 6)
  for (let index = 0; index < length; index++)
    text += chance(random, 0.3)
      ? pick(random, escapes)
      : pick(random, ['a', ' ', '#', "'", ':', 'é', '[', ','])
  return `"${text}"`
}

function singleQuoted(random: Random): string {
  let text = ''
  const length = Math.floor(random() * 6)
  for (let index = 0; index < length; index++)
    text += pick(random, ['a', ' ', '#', "''", '"', '\\n', ':', 'é'])
  return `'${text}'`
}

function flowList(random: Random): string {
  const length = Math.floor(random() * 4)
  const items: string[] = []
  for (let index = 0; index < length; index++)
    items.push(chance(random, 0.1) ? pick(random, ['"q"', "'s'", '', '[x]', 'a b']) : plainScalar(random))
  const spaced = chance(random, 0.5)
  return `[${items.join(spaced ? ', ' : ',')}]`
}

function value(random: Random): string {
  const roll = random()
  if (roll < 0.5) return plainScalar(random)
  if (roll < 0.65) return doubleQuoted(random)
  if (roll < 0.75) return singleQuoted(random)
  return flowList(random)
}

const trailing = (random: Random) =>
  chance(random, 0.9)
    ? pick(random, ['', '', ' ', '  # note', ' #'])
    : pick(random, ['\t', ' #: x', '#no-space'])

/** A document of nested mappings, mostly within the subset, sometimes just past its edge. */
function document(random: Random): string {
  const lines: string[] = []
  const unit = pick(random, [2, 2, 4, 1, 3])
  const mapping = (depth: number) => {
    const count = 1 + Math.floor(random() * 4)
    const used = new Set<string>()
    for (let index = 0; index < count; index++) {
      let key = pick(random, chance(random, 0.03) ? oddKeys : keyWords)
      // Duplicate keys are outside the subset: generated now and then, most often avoided.
      if (used.has(key) && !chance(random, 0.05)) key = `${key}${index}`
      used.add(key)
      const indent = ' '.repeat(depth * unit + (chance(random, 0.02) ? 1 : 0))
      if (chance(random, 0.1)) lines.push(pick(random, ['', '# a comment', `${indent}# indented`, '   ']))
      if (depth < 3 && chance(random, 0.3)) {
        lines.push(`${indent}${key}:${trailing(random)}`)
        mapping(depth + 1)
      } else if (chance(random, 0.08)) {
        lines.push(`${indent}${key}:${pick(random, ['', ' ', ' # empty'])}`)
      } else {
        lines.push(`${indent}${key}: ${value(random)}${trailing(random)}`)
      }
    }
  }
  mapping(0)
  const newline = chance(random, 0.1) ? '\r\n' : '\n'
  return lines.join(newline) + (chance(random, 0.8) ? newline : '')
}

/** Each key's 1-based line as the `yaml` package places it, by dotted path. */
function yamlLines(text: string): Map<string, number> {
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter })
  const lines = new Map<string, number>()
  const walk = (map: YAMLMap, path: string[]) => {
    for (const pair of map.items) {
      if (!isScalar(pair.key) || !pair.key.range) continue
      const key = [...path, String(pair.key.source)]
      lines.set(key.join('.'), counter.linePos(pair.key.range[0]).line)
      if (isMap(pair.value)) walk(pair.value, key)
    }
  }
  if (isMap(doc.contents)) walk(doc.contents, [])
  return lines
}

/** What `yaml` makes of the text, or the error it raises (the subset must refuse those). */
function reference(text: string): { data: unknown } | { error: string } {
  try {
    return { data: parse(text) ?? {} }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

describe('YAML fast path, differential against the yaml package', () => {
  const seed = 20_261_201
  const cases = 4000

  it(`reads ${cases} random documents as yaml does, or refuses them`, () => {
    const random = prng(seed)
    let read = 0
    for (let index = 0; index < cases; index++) {
      const text = document(random)
      const fast = parseSimpleYaml(text)
      if (fast === undefined) continue
      read++
      const expected = reference(text)
      const where = `seed ${seed}, case ${index}: ${JSON.stringify(text)}`
      expect('error' in expected ? expected.error : undefined, where).toBeUndefined()
      expect(fast.data, where).toEqual((expected as { data: unknown }).data)
      expect(Object.fromEntries(fast.lines), where).toEqual(Object.fromEntries(yamlLines(text)))
    }
    // The generator aims at the subset (about half its documents are within it): if the subset
    // refused most of them, the agreement above would prove little.
    expect(read / cases).toBeGreaterThan(0.4)
  })
})
