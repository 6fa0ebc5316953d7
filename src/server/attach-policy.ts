/**
 * The seam between the server and the moderation policy (src/policy): loads the rules file,
 * watches it (reload on change and on SIGHUP, without dropping requests: the swap is one
 * assignment), and registers the policy as the decider of `Group.CallbackBeforeSendMsg` and
 * `C2C.CallbackBeforeSendMsg`. The decision (rule, action, reason, …) goes to `ctx.meta.decision`,
 * where the recorder takes it for the store, the metrics and the admin API.
 *
 * A before-send delivered twice is answered the same: recent decisions are remembered by
 * idempotency key, so a rate limit cannot turn a redelivery into a deny.
 */
import { idempotencyKey } from '../protocol/idempotency-key.js'
import type { Verdict } from '../protocol/verdict.js'
import type { CallbackContext, Receiver } from '../receiver/index.js'
import { watchPolicy, type Decision, type PolicyWatcher } from '../policy/index.js'
import { ConfigError } from './config.js'
import { RecentMap } from './recent-map.js'
import type { ServerLogger } from './logger.js'
import type { ServerMetrics } from './metrics.js'

export interface PolicyHandle {
  /** Reloads the file now; a bad file leaves the previous rules in force (and is logged and counted). */
  reload(): void
  close(): void
}

const BEFORE_SEND = ['Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg'] as const
/** How many recent before-send decisions are remembered for redeliveries. */
const REMEMBERED = 10_000

/**
 * Loads the policy file and makes it the before-send decider.
 * @throws ConfigError when the file is invalid (the policy's message names the rule and field).
 * @example const policy = attachPolicy(receiver, 'examples/policy.yaml', { metrics, logger })
 */
export function attachPolicy(
  receiver: Receiver,
  path: string,
  deps: { metrics: ServerMetrics; logger: ServerLogger; /** For tests; default 10,000. */ remember?: number },
): PolicyHandle {
  const { metrics, logger } = deps
  const capacity = Math.max(1, Math.trunc(deps.remember ?? REMEMBERED))
  let watcher: PolicyWatcher
  try {
    watcher = watchPolicy(path, {
      signal: 'SIGHUP',
      onReload: () => {
        metrics.policyReloads.inc({ result: 'ok' })
        logger.info({ policy: path }, 'policy reloaded')
      },
      onError: (err) => {
        metrics.policyReloads.inc({ result: 'error' })
        logger.error({ policy: path, err: err.message }, 'policy reload failed; the previous rules stay in force')
      },
    })
  } catch (err) {
    throw new ConfigError(`policy (${path}): ${err instanceof Error ? err.message : String(err)}`)
  }
  // Not a Map and a ring of keys: see recent-map.ts (a Map's lookups miss the cache in the server).
  const remembered = new RecentMap<Decision>(capacity)

  const decide = (event: Record<string, unknown>, ctx: CallbackContext): Verdict => {
    const key = idempotencyKey(ctx.command, event, ctx.rawBody)
    let decision = remembered.get(key)
    if (decision === undefined) {
      decision = watcher.decide(event, ctx)
      remembered.add(key, decision)
    } else {
      ctx.meta.redelivery = true
    }
    ctx.meta.decision = decision // the Decision itself (a PolicyDecisionMeta): no copy on the hot path
    return decision.verdict
  }
  receiver.on(BEFORE_SEND, decide)
  logger.info({ policy: path, rules: watcher.policy.rules.length }, 'policy loaded')
  return {
    reload: () => void watcher.reload(),
    close: () => watcher.close(),
  }
}
