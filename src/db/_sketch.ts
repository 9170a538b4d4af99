/**
 * A latency sketch of fixed size: counts in buckets growing by 10% each, from 0.01 ms to about
 * ten minutes (190 buckets, 760 bytes). Any quantile is read back within 5% of the true value,
 * whatever the number of samples, so a route's p99 costs the same memory after a million
 * requests as after ten (the idea of DDSketch). Its buckets are stored with each window
 * (`sparse()`) so that windows merge exactly: the hourly rollup and the console's 7-day figures
 * add bucket counts, and read the quantiles of the sum (`Sketch.of`).
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
  /** The non-empty buckets: their indexes, ascending, and their counts. */
  sparse(): { index: number[]; count: number[] } {
    const index: number[] = []
    const count: number[] = []
    this.counts.forEach((n, i) => {
      if (n > 0) {
        index.push(i)
        count.push(n)
      }
    })
    return { index, count }
  }

  /** A sketch of stored buckets (counts summed over windows); `sumMs` is not known and stays 0. */
  static of(index: readonly number[], count: readonly number[]): Sketch {
    const sketch = new Sketch()
    index.forEach((i, k) => {
      const n = Number(count[k])
      const at = Math.min(buckets - 1, Math.max(0, i))
      sketch.counts[at] = (sketch.counts[at] as number) + n
      sketch.count += n
    })
    return sketch
  }

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
