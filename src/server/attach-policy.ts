/**
 * The seam between the server and the moderation policy (src/policy): loads the rules file,
 * watches it (reload on change and on SIGHUP, without dropping requests: the swap is one
 * assignment), and registers the policy as the decider of `Group.CallbackBeforeSendMsg` and
 * `C2C.CallbackBeforeSendMsg`. The decision (rule, action, reason, …) goes to `ctx.meta.policy`,
 * where the recorder takes it for the store, the metrics and the admin API.
 *
 * A before-send delivered twice is decided again: rate limits count an admitted message once (the
 * rate store remembers recent admissions by fingerprint, src/policy/sliding-window.ts) and the
 * other conditions are functions of the message, so it is answered the same unless something
 * changed in between — a mute set or expired, a reload, a refused message's window that has room
 * now — as it would be for a new message. (Decisions
 * used to be remembered here by idempotency key; holding 10,000 decisions, with their rewritten
 * bodies, cost the server more in garbage collection than deciding again: docs/policy.md.)
 */
import type { Receiver } from '../receiver/index.js'
import { watchPolicy, type PolicyWatcher } from '../policy/index.js'
import { ConfigError } from './config.js'
import type { ServerLogger } from './logger.js'
import type { ServerMetrics } from './metrics.js'

export interface PolicyHandle {
  /** Reloads the file now; a bad file leaves the previous rules in force (and is logged and counted). */
  reload(): void
  close(): void
}

const BEFORE_SEND = ['Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg'] as const

/**
 * Loads the policy file and makes it the before-send decider.
 * @throws ConfigError when the file is invalid (the policy's message names the rule and field).
 * @example const policy = attachPolicy(receiver, 'examples/policy.yaml', { metrics, logger })
 */
export function attachPolicy(receiver: Receiver, path: string, deps: { metrics: ServerMetrics; logger: ServerLogger }): PolicyHandle {
  const { metrics, logger } = deps
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
  // The watcher's decider puts the decision itself in ctx.meta.policy (no copy on the hot path).
  receiver.on(BEFORE_SEND, watcher.decider)
  logger.info({ policy: path, rules: watcher.policy.rules.length }, 'policy loaded')
  return {
    reload: () => void watcher.reload(),
    close: () => watcher.close(),
  }
}
