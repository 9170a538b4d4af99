import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { batchedDestination } from './_batched.js'

describe('the batched log destination', () => {
  it('writes every line, in order, once flushed — across many batches', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'log-')), 'out.jsonl')
    const fd = openSync(path, 'w')
    const destination = batchedDestination(fd)
    for (let i = 0; i < 20_000; i++) destination.write(`{"n":${i}}\n`)
    await new Promise<void>((resolve) => destination.flush(() => resolve()))
    closeSync(fd)
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(20_000)
    expect(lines.every((line, i) => JSON.parse(line).n === i)).toBe(true)
  })

  it('holds a small batch until flushed, then calls back', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'log-')), 'out.jsonl')
    const fd = openSync(path, 'w')
    const destination = batchedDestination(fd)
    destination.write('{"a":1}\n')
    expect(readFileSync(path, 'utf8')).toBe('')
    await new Promise<void>((resolve) => destination.flush(() => resolve()))
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n')
    closeSync(fd)
  })
})
