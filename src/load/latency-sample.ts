/** Latency percentiles (ms), exact: computed from every recorded sample. */
export interface LatencySummary {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/**
 * Every latency of a run, kept in a growing Float64Array (8 bytes a sample: a million callbacks cost
 * 8 MB), sorted once at the end for exact percentiles — no bucketing error to explain in a report.
 * @example const s = new LatencySample(); s.record(1.5); s.summary().p99
 */
export class LatencySample {
  #values = new Float64Array(1024)
  #count = 0

  record(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2)
      grown.set(this.#values)
      this.#values = grown
    }
    this.#values[this.#count++] = ms
  }

  get count(): number {
    return this.#count
  }

  /** Nearest-rank percentiles over all samples so far. */
  summary(): LatencySummary {
    const n = this.#count
    if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 }
    const sorted = this.#values.slice(0, n).sort()
    let sum = 0
    for (let i = 0; i < n; i++) sum += sorted[i]!
    const rank = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!
    return { count: n, mean: sum / n, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted[n - 1]! }
  }
}
