/** The contract of shipshape/cache: what a cache is made with and what each entry may say. */
import type { Logger } from '../observe/index.js'
import type { Relay } from '../types.js'

/** How values become text and back, for sizing, for Redis, and to refuse what cannot be stored. */
export interface Serializer {
  serialize(value: unknown): string
  deserialize(text: string): unknown
}

export const jsonSerializer: Serializer = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text),
}

/** A number of seconds, or a duration string: `500ms`, `30s`, `2m`, `1h`. */
export type Duration = number | string

export interface EntryOptions {
  /** How long a value is fresh. Default: the cache's `ttl`. */
  ttl?: Duration
  /** How long after the TTL a stale value may still be served. Default: the cache's `grace`. */
  grace?: Duration
  /** Names to delete the value by with deleteByTag(). Default: none. */
  tags?: readonly string[]
  /**
   * getOrSet with a stale value: how long the caller waits for the refresh before taking the
   * stale value. Default: the cache's `timeout`.
   */
  timeout?: Duration
}

export interface CacheOptions {
  /** Labels the metrics and separates this cache's keys in Redis and on the relay. Default: `default`. */
  name?: string
  /** The memory tier's budget in bytes (serialized length of values and keys). Default: 64 MiB. */
  maxBytes?: number
  /** Values larger than this are not kept in memory (and logged). Default: a quarter of maxBytes. */
  maxEntryBytes?: number
  /** Default: 5 minutes. */
  ttl?: Duration
  /** Default: 0 (a value is gone at its TTL). */
  grace?: Duration
  /** Default: 0 (a stale value is served at once while the refresh runs in the background). */
  timeout?: Duration
  /** After a failed refresh, stale is served for this long before the factory is tried again. Default: 10 s. */
  graceBackoff?: Duration
  /**
   * Each TTL is shortened by up to this fraction, at random, so values set together do not
   * expire together. Default: 0.1 (a 2-minute TTL lasts 108 to 120 s).
   */
  jitter?: number
  /** Default: JSON. */
  serializer?: Serializer
  /** Redis as the shared tier, `redis://` or `rediss://`. Default: none (memory only). */
  redisUrl?: string
  /** Before every Redis key. Default: `shipshape`. */
  prefix?: string
  /** The longest a factory may hold the lease of its key across instances; waiters wait at most this. Default: 10 s. */
  lease?: Duration
  /** Memory only: the channel to the other workers (under `shipshape serve`, the worker's relay). */
  relay?: Relay
  /** Default: a logger of its own. */
  logger?: Logger
}
