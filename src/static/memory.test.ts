/** The memory budget of staticFiles(): small files kept in memory up to memoryBytes, the rest read from disk. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { get } from '../_test/client.js'
import { serve } from './_test/server.js'
import { staticFiles } from './index.js'

describe('the memory budget', () => {
  it('keeps the first files asked for in memory up to memoryBytes, and reads the rest from disk each time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-static-budget-'))
    const [first, second] = ['a'.repeat(100), 'b'.repeat(100)]
    writeFileSync(join(dir, 'first.txt'), first)
    writeFileSync(join(dir, 'second.txt'), second)
    const budget = await serve([staticFiles({ root: dir, memoryBytes: 150 })])
    try {
      const body = async (name: string) => (await get(budget.port, `/static/${name}`)).body.toString()
      expect(await body('first.txt')).toBe(first)
      expect(await body('second.txt')).toBe(second) // 100 more bytes would pass the 150
      await new Promise((settle) => setTimeout(settle, 200)) // the copy in memory is read in the background
      // Same size, so the index still takes them for the same files: what is answered shows where it came from.
      writeFileSync(join(dir, 'first.txt'), 'c'.repeat(100))
      writeFileSync(join(dir, 'second.txt'), 'd'.repeat(100))
      expect(await body('first.txt')).toBe(first)
      expect(await body('second.txt')).toBe('d'.repeat(100))
    } finally {
      await budget.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
