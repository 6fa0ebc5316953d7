/**
 * Policy decisions counted in plain numbers, by rule, action and verdict, and read by the
 * `timhook_decisions_total` counter when it is scraped.
 *
 * Why not `counter.labels(rule, action, verdict).inc()` per decision: prom-client 15's label
 * children hash their labels into a string key on every `inc`, which with our own key lookup cost
 * ~1–2 µs per before-send in the server (cold caches); here a decision is one `Map` lookup by the
 * rule's name (the same string every time) and one array increment.
 */

const ACTIONS = ['allow', 'deny', 'drop', 'mask', 'stamp', 'none'] as const
const VERDICTS = ['allow', 'deny', 'drop'] as const
const SLOTS = ACTIONS.length * VERDICTS.length

export interface DecisionCount {
  readonly rule: string
  readonly action: string
  readonly verdict: string
  readonly count: number
}

export class DecisionTally {
  private readonly byRule = new Map<string, Float64Array>()
  /** Counts whose action or verdict is outside the known sets (a custom decider's meta): keyed by all three. */
  private readonly other = new Map<string, { rule: string; action: string; verdict: string; count: number }>()

  count(rule: string, action: string, verdict: string): void {
    const a = slotOf(ACTIONS, action)
    const v = slotOf(VERDICTS, verdict)
    if (a < 0 || v < 0) {
      const key = `${rule}\0${action}\0${verdict}`
      const e = this.other.get(key)
      if (e === undefined) this.other.set(key, { rule, action, verdict, count: 1 })
      else e.count++
      return
    }
    let counts = this.byRule.get(rule)
    if (counts === undefined) this.byRule.set(rule, (counts = new Float64Array(SLOTS)))
    counts[a * VERDICTS.length + v]!++
  }

  /** Every non-zero count. */
  *entries(): IterableIterator<DecisionCount> {
    for (const [rule, counts] of this.byRule) {
      for (let i = 0; i < SLOTS; i++) {
        if (counts[i] === 0) continue
        yield { rule, action: ACTIONS[Math.floor(i / VERDICTS.length)]!, verdict: VERDICTS[i % VERDICTS.length]!, count: counts[i]! }
      }
    }
    yield* this.other.values()
  }
}

function slotOf(list: readonly string[], value: string): number {
  for (let i = 0; i < list.length; i++) if (list[i] === value) return i
  return -1
}
