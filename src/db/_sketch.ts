/**
 * A latency sketch of fixed size: counts in buckets growing by 10% each, from 0.01 ms to about
 * ten minutes (190 buckets, 760 bytes). Any quantile is read back within 5% of the true value,
 * whatever the number of samples, so a route's p99 costs the same memory after a million
 * requests as after ten (the idea of DDSketch, without its mergeable store).
 */
const gamma = 1.1
const logGamma = Math.log(gamma)
const minMs = 0.01
const buckets = 190

export class Sketch {
  private readonly counts = new Uint32Array(buckets)
  count = 0
  sumMs = 0

  add(ms: number): void {
    const index = ms <= minMs ? 0 : Math.min(buckets - 1, Math.ceil(Math.log(ms / minMs) / logGamma))
    this.counts[index] = (this.counts[index] as number) + 1
    this.count++
    this.sumMs += ms
  }

  /** The q-quantile (0..1) in milliseconds: the middle of the bucket holding it; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let i = 0; i < buckets; i++) {
      seen += this.counts[i] as number
      if (seen >= rank) return i === 0 ? minMs : (minMs * gamma ** i * 2) / (1 + gamma)
    }
    return minMs * gamma ** (buckets - 1)
  }
}
