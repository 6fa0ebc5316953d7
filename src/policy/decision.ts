/** What the policy decided for one message, and why: the record the server stores, counts and serves. */
import type { Verdict } from '../protocol/verdict.js'

export type PolicyAction = 'allow' | 'deny' | 'drop' | 'mask' | 'stamp'

/** One rule that fired, in the order rules were evaluated. */
export interface FiredRule {
  /** The rule's `name` (or `rules[i]` when it has none). */
  readonly rule: string
  /** Index in `rules`. */
  readonly index: number
  readonly action: PolicyAction
  /** Why the condition held, e.g. `keyword "buy now" in MsgBody[0].MsgContent.Text`. */
  readonly reason: string
  /** True when the rule (or the whole policy) is in dry-run mode: recorded, not enforced. */
  readonly dryRun: boolean
}

/**
 * The outcome of `policy.decide`. Answer with `verdict`; record `rule`, `action`, `reason`,
 * `dryRun` (the store's `DecisionRecord` fields) and count by `rule` and `action`.
 */
export interface PolicyDecision {
  /** What to answer: allow (possibly rewritten), deny (possibly with a custom code) or drop. Always allow in dry run. */
  readonly verdict: Verdict
  /** What the policy decided: the action of the rule that stopped evaluation, else of the last rewriting rule, else `allow`. */
  readonly action: PolicyAction
  /** The rule behind `action`; absent when no rule fired. */
  readonly rule: string | undefined
  /** Why, in words: the deciding rule's reason, or `no rule matched`. */
  readonly reason: string
  /** True when `action` was decided but not enforced (policy-wide or rule dry run). */
  readonly dryRun: boolean
  /** True when `verdict` carries a rewritten `MsgBody`. */
  readonly rewritten: boolean
  /** The custom deny code in `verdict`, if any. */
  readonly code: number | undefined
  /** Every rule that fired (including dry-run and rewriting rules), in order. */
  readonly matched: readonly FiredRule[]
}
