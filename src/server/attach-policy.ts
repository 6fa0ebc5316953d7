/**
 * The seam between the server and the moderation policy (src/policy): loads the rules file,
 * watches it (reload on change and on SIGHUP, without dropping requests), and registers the
 * policy as the decider of `Group.CallbackBeforeSendMsg` and `C2C.CallbackBeforeSendMsg`.
 * The decision's rule/action/reason go to `ctx.meta.decision`, where the recorder takes them
 * for the store, the metrics and the admin API.
 *
 * A before-send delivered twice is answered the same: the last decisions are remembered by
 * idempotency key (a rate limit must not turn a redelivery into a deny).
 */
import { idempotencyKey } from '../protocol/idempotency-key.js'
import type { Verdict } from '../protocol/verdict.js'
import type { CallbackContext, Receiver } from '../receiver/index.js'
import { ConfigError } from './config.js'
import type { ServerLogger } from './logger.js'
import type { ServerMetrics } from './metrics.js'

export interface PolicyHandle {
  reload(): Promise<void>
  close(): Promise<void>
}

/** The decision a policy returns (src/policy `Decision`). */
export interface PolicyDecision {
  verdict: Verdict
  action?: string | null
  rule?: string | null
  reason?: string | null
  dryRun?: boolean
}

/** What the server needs from src/policy; checked at runtime so a mismatch fails at start with a clear message. */
interface PolicyModule {
  watchPolicy(
    path: string,
    handlers: { onReload?: (policy: unknown) => void; onError?: (err: unknown) => void },
  ): Promise<PolicyWatcher> | PolicyWatcher
}

interface PolicyWatcher {
  reload(): Promise<unknown> | unknown
  close?(): Promise<unknown> | unknown
  decide(event: Record<string, unknown>, ctx: { command: string }): PolicyDecision | Promise<PolicyDecision>
}

const BEFORE_SEND = ['Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg'] as const
const REMEMBERED = 10_000

async function loadPolicyModule(): Promise<PolicyModule> {
  // A variable specifier: the policy is built in parallel and may not be in this build yet.
  const specifier = '../policy/index.js'
  let mod: Partial<PolicyModule>
  try {
    mod = (await import(specifier)) as Partial<PolicyModule>
  } catch (err) {
    throw new ConfigError(`policy: the moderation policy is not available in this build (${(err as Error).message})`)
  }
  if (typeof mod.watchPolicy !== 'function') throw new ConfigError('policy: src/policy does not export watchPolicy(path, { onReload, onError })')
  return mod as PolicyModule
}

/**
 * Loads the policy file and makes it the before-send decider.
 * @throws ConfigError when the file is invalid (the policy's message names the rule and field).
 */
export async function attachPolicy(receiver: Receiver, path: string, deps: { metrics: ServerMetrics; logger: ServerLogger }): Promise<PolicyHandle> {
  const { metrics, logger } = deps
  const mod = await loadPolicyModule()
  let watcher: PolicyWatcher
  try {
    watcher = await mod.watchPolicy(path, {
      onReload: () => {
        metrics.policyReloads.inc({ result: 'ok' })
        logger.info({ policy: path }, 'policy reloaded')
      },
      onError: (err) => {
        metrics.policyReloads.inc({ result: 'error' })
        logger.error({ policy: path, err: err instanceof Error ? err.message : String(err) }, 'policy reload failed; the previous rules stay in force')
      },
    })
  } catch (err) {
    throw new ConfigError(`policy (${path}): ${err instanceof Error ? err.message : String(err)}`)
  }
  const remembered = new Map<string, PolicyDecision>()

  const decide = async (event: Record<string, unknown>, ctx: CallbackContext): Promise<Verdict> => {
    const key = idempotencyKey(ctx.command, event, ctx.rawBody)
    let decision = remembered.get(key)
    if (decision === undefined) {
      decision = await watcher.decide(event, ctx)
      remembered.set(key, decision)
      if (remembered.size > REMEMBERED) remembered.delete(remembered.keys().next().value as string)
    } else {
      ctx.meta.redelivery = true
    }
    ctx.meta.decision = { rule: decision.rule ?? null, action: decision.action ?? null, reason: decision.reason ?? null, dryRun: decision.dryRun === true }
    return decision.verdict
  }
  receiver.on(BEFORE_SEND, decide)

  const onHup = () => void Promise.resolve(watcher.reload()).catch(() => {})
  process.on('SIGHUP', onHup)
  logger.info({ policy: path }, 'policy loaded')
  return {
    reload: async () => {
      await watcher.reload()
    },
    close: async () => {
      process.off('SIGHUP', onHup)
      await watcher.close?.()
    },
  }
}
