/** A rules file (or config object) that cannot be used, with every problem found. */
import { TimhookError } from '../protocol/errors.js'

/** One problem: where (`rules[3].then.deny.code`) and what. */
export interface PolicyIssue {
  readonly path: string
  readonly message: string
}

/**
 * Thrown by `createPolicy` and `loadPolicyFile`. The message lists every issue, each naming the
 * rule index and field, e.g. `rules[1].then.deny.code: 10101 is a group code …`.
 * @example
 * try { await loadPolicyFile('policy.yaml') } catch (err) { if (err instanceof PolicyError) console.error(err.issues) }
 */
export class PolicyError extends TimhookError {
  readonly issues: readonly PolicyIssue[]
  /** The file the policy came from, when it came from one. */
  readonly source: string | undefined

  constructor(issues: readonly PolicyIssue[], source?: string) {
    super(
      'TIMHOOK_POLICY_INVALID',
      source === undefined ? '' : ` ${source}`,
      issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; '),
    )
    this.name = 'PolicyError'
    this.issues = issues
    this.source = source
  }
}

/** `['rules', 3, 'then', 'deny', 'code']` → `rules[3].then.deny.code`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`
  return out
}
