/**
 * The memory tier: one LRU per cache and worker, bounded in bytes (lru-cache's maxSize), with an
 * index from each tag to its keys so deleteByTag costs the keys it names, not a scan.
 */
import { LRUCache } from 'lru-cache'
import type { CacheStats } from './_metrics.js'

/** A value with its times (epoch milliseconds): fresh until `fresh`, servable as stale until `stale`. */
export interface Entry {
  value: unknown
  fresh: number
  stale: number
  tags: readonly string[]
  /** The serialized value, as the shared tier stores it. */
  text: string
}

export class MemoryTier {
  private readonly lru: LRUCache<string, Entry>
  private readonly tagged = new Map<string, Set<string>>()

  constructor(
    /** Bytes; each value counts its serialized length (UTF-16 code units, close to bytes for ASCII). */
    readonly maxBytes: number,
    /** Larger values are not kept, so one value can never evict most of the others. */
    readonly maxEntryBytes: number,
    private readonly stats: CacheStats,
  ) {
    this.lru = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      maxEntrySize: maxEntryBytes,
      sizeCalculation: (entry, key) => entry.text.length + key.length,
      dispose: (entry, key, reason) => {
        stats.bytes -= entry.text.length + key.length
        if (reason === 'evict') stats.evictions++
        for (const tag of entry.tags) {
          const keys = this.tagged.get(tag)
          keys?.delete(key)
          if (keys?.size === 0) this.tagged.delete(tag)
        }
      },
    })
  }

  /** The entry if it is not past its stale time at `now` (epoch ms, passed in: one clock read per call). */
  get(key: string, now: number): Entry | undefined {
    const entry = this.lru.get(key)
    if (entry !== undefined && entry.stale <= now) {
      this.lru.delete(key)
      return undefined
    }
    return entry
  }

  /** False when the value is too large to keep (the caller logs it); an older value for the key goes. */
  set(key: string, entry: Entry): boolean {
    if (entry.text.length + key.length > this.maxEntryBytes) {
      this.lru.delete(key)
      return false
    }
    this.lru.set(key, entry)
    this.stats.bytes += entry.text.length + key.length
    for (const tag of entry.tags) {
      const keys = this.tagged.get(tag) ?? new Set()
      this.tagged.set(tag, keys)
      keys.add(key)
    }
    return true
  }

  delete(key: string): void {
    this.lru.delete(key)
  }

  deleteTags(tags: readonly string[]): void {
    for (const tag of tags) for (const key of [...(this.tagged.get(tag) ?? [])]) this.lru.delete(key)
  }

  clear(): void {
    this.lru.clear()
  }

  get size(): number {
    return this.lru.size
  }
}
