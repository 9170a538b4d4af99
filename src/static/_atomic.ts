/** Writes into a directory a server may be reading from: it never sees half a file. */
import { copyFile, link, rename, writeFile } from 'node:fs/promises'

/**
 * Every write goes to a temporary name and is renamed into place: a server reading the
 * directory never sees half a file, and a hard link from an earlier build is replaced, never
 * written through.
 */
export async function atomicWrite(path: string, data: string | Buffer): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, data)
  await rename(temporary, path)
}

export async function atomicCopy(source: string, path: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await copyFile(source, temporary)
  await rename(temporary, path)
}

/** A hard link made the same way; `remove` clears the temporary name an interrupted run may have left. */
export async function atomicLink(
  existing: string,
  path: string,
  remove: (path: string) => Promise<void>,
): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await remove(temporary)
  await link(existing, temporary)
  await rename(temporary, path)
}
