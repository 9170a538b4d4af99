import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { bytes, defineConfig, duration, parseBytes, parseDuration, resolveConfig, setting } from './index.js'

/** Loads one setting of `schema` from the variable X_VALUE set to `raw`. */
function fromEnv(schema: z.ZodType, raw: string) {
  const declaration = defineConfig(
    { value: setting(schema, { description: 'under test' }) },
    { envPrefix: 'X_' },
  )
  const result = resolveConfig(declaration, { env: { X_VALUE: raw }, dotenv: false, secretsDir: false })
  return result.values ? { value: result.values.value } : { problem: result.problems[0] }
}

describe('booleans: true/false, 1/0, yes/no, on/off in any case, nothing else', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['On', true],
    [' on ', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['NO', false],
    ['off', false],
  ])('%j is %j', (raw, expected) => {
    expect(fromEnv(z.boolean(), raw)).toEqual({ value: expected })
  })

  it.each(['maybe', 'tru', '2', '-1', 'y', 'n', 'enabled', 'null'])('%j is an error, never false', (raw) => {
    expect(fromEnv(z.boolean(), raw).problem).toMatchObject({
      key: 'value',
      source: 'X_VALUE',
      expected: 'true or false (also yes/no, on/off, 1/0)',
      found: JSON.stringify(raw),
    })
  })
})

describe('numbers', () => {
  it.each([
    ['12', 12],
    ['-3', -3],
    ['+4', 4],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1e3', 1000],
    [' 7 ', 7],
  ])('%j is %j', (raw, expected) => {
    expect(fromEnv(z.number(), raw)).toEqual({ value: expected })
  })

  it.each(['12abc', 'abc', '0x10', '1_000', 'Infinity', 'NaN', '1.2.3', '--1', '1 2'])(
    '%j is rejected',
    (raw) => {
      expect(fromEnv(z.number(), raw).problem).toMatchObject({
        expected: 'a number',
        found: JSON.stringify(raw),
      })
    },
  )

  it('an integer setting rejects fractions and says its range', () => {
    expect(fromEnv(z.int().min(1), '2')).toEqual({ value: 2 })
    expect(fromEnv(z.int().min(1), '1.5').problem?.expected).toBe('a whole number of 1 or more')
    expect(fromEnv(z.int().min(1), '0').problem?.expected).toBe('a whole number of 1 or more')
    expect(fromEnv(z.int().min(1).max(10), '11').problem?.expected).toBe('a whole number from 1 to 10')
  })
})

describe('lists: comma-separated or a JSON array', () => {
  it.each([
    ['a,b', ['a', 'b']],
    [' a , b ', ['a', 'b']],
    ['single', ['single']],
    ['["a,b", "c"]', ['a,b', 'c']],
    ['[]', []],
  ])('%j is %j', (raw, expected) => {
    expect(fromEnv(z.array(z.string()), raw)).toEqual({ value: expected })
  })

  it('items are coerced to the element type', () => {
    expect(fromEnv(z.array(z.int()), '1, 2,3')).toEqual({ value: [1, 2, 3] })
    expect(fromEnv(z.array(z.int()), '[1, 2]')).toEqual({ value: [1, 2] })
    expect(fromEnv(z.array(z.boolean()), 'yes,off')).toEqual({ value: [true, false] })
  })

  it.each(['1,x', '[1', '{"a":1}', '["1", 2.5]'])('%j is rejected for a list of integers', (raw) => {
    expect(fromEnv(z.array(z.int()), raw).problem?.found).toBe(JSON.stringify(raw))
  })
})

describe('JSON objects, URLs, enums', () => {
  it('JSON objects parse; arrays, scalars and broken JSON do not', () => {
    const schema = z.record(z.string(), z.boolean())
    expect(fromEnv(schema, '{"beta": true}')).toEqual({ value: { beta: true } })
    for (const raw of ['[true]', 'true', '{beta: true}', '{"beta": "yes"}']) {
      expect(fromEnv(schema, raw).problem).toBeDefined()
    }
    expect(fromEnv(schema, '[true]').problem?.expected).toBe('a JSON object')
  })

  it('URLs must be URLs', () => {
    expect(fromEnv(z.url(), 'https://example.com/x')).toEqual({ value: 'https://example.com/x' })
    expect(fromEnv(z.url(), 'example dot com').problem?.expected).toBe(
      'a URL such as https://example.com/path',
    )
  })

  it('enums list their values', () => {
    expect(fromEnv(z.enum(['dev', 'prod']), 'prod')).toEqual({ value: 'prod' })
    expect(fromEnv(z.enum(['dev', 'prod']), 'Prod').problem?.expected).toBe('one of dev, prod')
  })
})

describe('durations: 500ms, 5s, 2m', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['5S', 5000],
    ['0', 0],
    ['250', 250],
  ])('%j is %j ms', (raw, expected) => {
    expect(fromEnv(duration(), raw)).toEqual({ value: expected })
  })

  it('a bare number is in the declared unit', () => {
    expect(parseDuration('30', 's')).toBe(30_000)
    expect(fromEnv(duration({ bareUnit: 's' }), '30')).toEqual({ value: 30_000 })
  })

  it.each(['soon', '-5s', '5 s', '5sec', 's', '1h30', '5e3ms'])('%j is rejected', (raw) => {
    expect(fromEnv(duration(), raw).problem?.expected).toBe('a duration such as 500ms, 5s or 2m')
  })
})

describe('byte sizes: 10MB, 1GiB', () => {
  it.each([
    ['10MB', 10_000_000],
    ['1GiB', 1024 ** 3],
    ['16KiB', 16_384],
    ['512', 512],
    ['512B', 512],
    ['10 mb', 10_000_000],
    ['1.5KB', 1500],
  ])('%j is %j bytes', (raw, expected) => {
    expect(fromEnv(bytes(), raw)).toEqual({ value: expected })
  })

  it.each(['ten', '-1MB', '10XB', 'MB', '1e3', '99999999TiB'])('%j is rejected', (raw) => {
    expect(fromEnv(bytes(), raw).problem?.expected).toBe('a size such as 512KB, 10MB or 1GiB')
  })

  it('parseBytes and parseDuration answer undefined for what they cannot read', () => {
    expect(parseBytes('lots')).toBeUndefined()
    expect(parseDuration('later')).toBeUndefined()
  })
})

it('an empty variable counts as unset, as compose files and shells leave them', () => {
  const declaration = defineConfig(
    { hosts: setting(z.array(z.string()), { default: ['x'], description: 'h' }) },
    { envPrefix: 'X_' },
  )
  expect(
    resolveConfig(declaration, { env: { X_HOSTS: '' }, dotenv: false, secretsDir: false }).values,
  ).toEqual({
    hosts: ['x'],
  })
})

describe('values from files are typed already; strings in them are coerced like the environment', () => {
  it('numbers for durations are in the bare unit, strings are parsed', async () => {
    const declaration = defineConfig({
      timeout: setting(duration({ bareUnit: 's' }), { default: '1s', description: 't' }),
      size: setting(bytes(), { default: 0, description: 's' }),
      on: setting(z.boolean(), { default: false, description: 'o' }),
    })
    const { tempDir } = await import('../_test/temp.js')
    const temp = tempDir({ 'c.json': '{"timeout": 30, "size": "1KiB", "on": "yes"}' })
    try {
      const result = resolveConfig(declaration, { cwd: temp.dir, file: 'c.json', env: {}, secretsDir: false })
      expect(result.values).toEqual({ timeout: 30_000, size: 1024, on: true })
    } finally {
      temp.remove()
    }
  })
})
