import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface Entry {
  name: string
  message: string
  at: string
}

export interface EntryInput {
  name?: unknown
  message?: unknown
}

/** Field-by-field problems with a submitted entry; empty when it is valid. */
export function validate(input: EntryInput): Record<string, string> {
  const problems: Record<string, string> = {}
  const name = typeof input.name === 'string' ? input.name.trim() : ''
  const message = typeof input.message === 'string' ? input.message.trim() : ''
  if (!name) problems.name = 'Please give your name.'
  else if (name.length > 60) problems.name = 'Names are at most 60 characters.'
  if (!message) problems.message = 'Please write a message.'
  else if (message.length > 500) problems.message = 'Messages are at most 500 characters.'
  return problems
}

/**
 * Entries are appended to a JSON-lines file: every worker process sees the same entries, and
 * one short O_APPEND write per entry cannot interleave with another worker's.
 */
export class Guestbook {
  readonly dataDir: string
  readonly #file: string

  constructor(dataDir: string) {
    this.dataDir = dataDir
    this.#file = join(dataDir, 'guestbook.jsonl')
  }

  async add(input: EntryInput): Promise<Entry> {
    const entry: Entry = {
      name: String(input.name).trim(),
      message: String(input.message).trim(),
      at: new Date().toISOString(),
    }
    await mkdir(this.dataDir, { recursive: true })
    await appendFile(this.#file, `${JSON.stringify(entry)}\n`)
    return entry
  }

  async recent(limit = 20): Promise<Entry[]> {
    const text = await readFile(this.#file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return ''
      throw error
    })
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Entry)
      .slice(-limit)
      .reverse()
  }
}
