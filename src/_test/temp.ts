import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/** A temporary directory with the given files, removed by the returned cleanup. */
export function tempDir(files: Record<string, string> = {}): {
  dir: string
  write(name: string, text: string): string
  remove(): void
} {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-config-'))
  const write = (name: string, text: string) => {
    const path = join(dir, name)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, text)
    return path
  }
  for (const [name, text] of Object.entries(files)) write(name, text)
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
