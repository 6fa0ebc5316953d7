/**
 * The per-callback metrics (`timhook_callbacks_total`, `timhook_callback_duration_seconds`) kept in
 * plain numbers on the hot path and read when `/metrics` is scraped, as decisions are
 * (decision-tally.ts): prom-client 15's label children hash their labels into a string key on every
 * `inc`/`observe`, ~2.6 µs per callback for the two in serve (perf, loaded). The scrape's text is
 * the same as prom-client's own counter and histogram would print.
 */
import { Counter, type Metric, type MetricObjectWithValues, type MetricValueWithName, type Registry } from 'prom-client'

/** Callbacks answered, by command and outcome: two `Map` lookups by strings that are the same objects every time. */
export class CallbackTally {
  private readonly byCommand = new Map<string, Map<string, Cell>>()
  /** Every cell in the order first counted: the order prom-client prints its series in. */
  private readonly cells: Cell[] = []

  count(command: string, outcome: string): void {
    let outcomes = this.byCommand.get(command)
    if (outcomes === undefined) this.byCommand.set(command, (outcomes = new Map()))
    const cell = outcomes.get(outcome)
    if (cell !== undefined) cell.count++
    else {
      const created = { command, outcome, count: 1 }
      outcomes.set(outcome, created)
      this.cells.push(created)
    }
  }

  entries(): ReadonlyArray<Readonly<Cell>> {
    return this.cells
  }
}

interface Cell {
  readonly command: string
  readonly outcome: string
  count: number
}

/** A counter that reads `tally` when scraped (the increments since the last scrape). */
export function tallyCounter(tally: CallbackTally, registry: Registry, name: string, help: string): void {
  const reported = new Map<string, number>()
  new Counter({
    name,
    help,
    labelNames: ['command', 'outcome'],
    registers: [registry],
    collect() {
      for (const { command, outcome, count } of tally.entries()) {
        const key = `${command}\0${outcome}`
        const delta = count - (reported.get(key) ?? 0)
        if (delta > 0) this.inc({ command, outcome }, delta)
        reported.set(key, count)
      }
    },
  })
}

interface Series {
  readonly counts: Float64Array
  sum: number
  count: number
}

/**
 * A histogram by one label (`phase`), observed in plain numbers: a bucket index found by a short
 * loop and three additions. Registered in a prom-client registry as a metric of its own (prom-client
 * reads a metric through `get()`), printing what prom-client's `Histogram` prints.
 */
export class PhaseHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, Series>()

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric)
  }

  observe(phase: string, seconds: number): void {
    let s = this.series.get(phase)
    if (s === undefined) this.series.set(phase, (s = { counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }))
    const b = this.buckets
    let i = 0
    while (i < b.length && seconds > b[i]!) i++
    if (i < b.length) s.counts[i]!++
    s.sum += seconds
    s.count++
  }

  get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: Array<MetricValueWithName<string>> = []
    const bucket = `${this.name}_bucket`
    for (const [phase, s] of this.series) {
      let acc = 0
      for (let i = 0; i < this.buckets.length; i++) {
        acc += s.counts[i]!
        values.push({ metricName: bucket, labels: { le: this.buckets[i]!, phase }, value: acc })
      }
      values.push({ metricName: bucket, labels: { le: '+Inf', phase }, value: s.count })
      values.push({ metricName: `${this.name}_sum`, labels: { phase }, value: s.sum })
      values.push({ metricName: `${this.name}_count`, labels: { phase }, value: s.count })
    }
    const metric = { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' }
    return Promise.resolve(metric as unknown as MetricObjectWithValues<MetricValueWithName<string>>)
  }

  reset(): void {
    this.series.clear()
  }
}
