/**
 * What keeps one worker's memory tier true to the others: invalidations received from them, and
 * the rule that a factory result computed across an invalidation of its key is returned to its
 * caller but not kept (it may have read what the invalidation replaced).
 */
import { randomUUID } from 'node:crypto'
import type { MemoryTier } from './_memory.js'
import type { Invalidation } from './_redis.js'

export class Invalidations {
  /** Marks this cache's own messages, which come back to it on the Redis bus. */
  readonly origin = randomUUID()
  /** The keys invalidated while their factory ran. */
  private readonly overtaken = new Set<string>()
  /** Bumped by every tag or clear invalidation, which may touch any key. */
  private epoch = 0

  constructor(
    private readonly memory: MemoryTier,
    private readonly running: (key: string) => boolean,
  ) {}

  /** A factory run for `key` begins; the function says, when it ends, whether its result may be kept. */
  begin(key: string): () => boolean {
    const epoch = this.epoch
    this.overtaken.delete(key)
    return () => !this.overtaken.delete(key) && epoch === this.epoch
  }

  /** `key` changes here: a factory running for it must not keep its result. */
  overtake(key: string): void {
    if (this.running(key)) this.overtaken.add(key)
  }

  /** Any key may have changed (a tag, a clear, a lost bus). */
  bump(): void {
    this.epoch++
  }

  /** Another worker's or instance's invalidation. */
  received(message: Invalidation): void {
    if (message.o === this.origin) return
    if (message.c || message.t) this.bump()
    if (message.c) this.memory.clear()
    for (const key of message.k ?? []) {
      this.overtake(key)
      this.memory.delete(key)
    }
    if (message.t) this.memory.deleteTags(message.t)
  }
}
