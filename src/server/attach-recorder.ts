/**
 * Wires a receiver to the store, the metrics and the log:
 * - after-events (and unknown commands) are written durably and answered only once committed
 *   (`onAny` with `acknowledge`); a failed commit answers 503 FAIL so Tencent may redeliver;
 * - before-events are recorded with their decision from `onAnswer`, joining the next commit —
 *   their answer never waits for the disk;
 * - rejections are counted by cause.
 */
import type { Verdict } from '../protocol/verdict.js'
import type { PolicyDecision } from '../policy/index.js'
import type { AnswerOutcome, CallbackContext, CallbackMeta, Receiver } from '../receiver/index.js'
import type { CallbackRecord, DecisionRecord } from '../store/records.js'
import type { Store } from '../store/store.js'
import type { ServerLogger } from './logger.js'
import { commandLabel, type ServerMetrics } from './metrics.js'

// The one key a decision is read from: the policy's decider writes `ctx.meta.policy` (src/policy).
declare module '../receiver/context.js' {
  interface CallbackMeta {
    policy?: PolicyDecision | undefined
  }
}

export function toRecord(event: Record<string, unknown>, ctx: CallbackContext, decision: DecisionRecord | null): CallbackRecord {
  return {
    command: ctx.command,
    sdkAppId: ctx.sdkAppId,
    clientIp: ctx.clientIp ?? null,
    optPlatform: ctx.optPlatform ?? null,
    receivedAt: ctx.receivedAt,
    requestId: ctx.requestId,
    rawBody: ctx.rawBody,
    body: event,
    valid: ctx.valid,
    decision,
  }
}

/** The decision as recorded: the verdict sent, plus what the policy said about it. */
export function decisionOf(v: Verdict, fallback: boolean, meta: CallbackMeta): DecisionRecord {
  const policy = meta.policy
  return {
    verdict: v.kind,
    rewritten: v.kind === 'allow' && (v.msgBody !== undefined || v.cloudCustomData !== undefined),
    code: v.kind === 'deny' ? (v.code ?? null) : null,
    fallback,
    rule: policy?.rule ?? null,
    action: policy?.action ?? null,
    reason: policy?.reason ?? null,
    dryRun: policy?.dryRun === true,
  }
}

// A decider's shared decision — a policy's "no rule matched", one frozen object for every message
// — answered as decided is recorded the same each time: its record (and so the record's JSON,
// src/store/records.ts) is built once, not per before-send.
const sharedRecords = new WeakMap<PolicyDecision, DecisionRecord>()

/** `decisionOf`, built once for a shared (frozen) policy decision answered with its own verdict. */
export function recordOf(v: Verdict, fallback: boolean, meta: CallbackMeta): DecisionRecord {
  const policy = meta.policy
  if (fallback || policy === undefined || policy.verdict !== v || !Object.isFrozen(policy)) return decisionOf(v, fallback, meta)
  let record = sharedRecords.get(policy)
  if (record === undefined) sharedRecords.set(policy, (record = Object.freeze(decisionOf(v, false, meta))))
  return record
}

export function outcomeLabel(o: AnswerOutcome): string {
  if (o.status !== 200) return o.errorCode === 'TIMHOOK_ACK_FAILED' ? 'failed' : 'rejected'
  if (o.verdict === undefined) return 'ok'
  if (o.fallback) return 'fallback'
  if (o.verdict.kind === 'allow') return o.verdict.msgBody !== undefined || o.verdict.cloudCustomData !== undefined ? 'rewrite' : 'allow'
  return o.verdict.kind
}

/**
 * An after-event's durable write, as the thenable its acknowledging listener returns: the receiver
 * calls `then` once, which queues the record (`Store.writeWith`) with the receiver's own two
 * callbacks, so the answer follows the commit report through plain callbacks — no promise per
 * callback. The write starts at the first `then` and is waited for once (a second `then` fails).
 */
export class DurableWrite {
  private started = false

  constructor(
    private readonly store: Store,
    private readonly record: CallbackRecord,
  ) {}

  then(onCommitted: () => void, onFailed: (err: unknown) => void): void {
    if (this.started) return onFailed(new Error('a durable write is waited for once'))
    this.started = true
    this.store.writeWith(this.record, onCommitted, onFailed)
  }
}

/**
 * Registers the recorder on a receiver.
 * @example attachRecorder(receiver, { store, metrics, logger })
 */
export function attachRecorder(receiver: Receiver, deps: { store: Store; metrics: ServerMetrics; logger: ServerLogger }): void {
  const { store, metrics, logger } = deps
  receiver.onAny(
    (event, ctx) => {
      // Before-events are recorded from onAnswer, once their decision is known.
      if (ctx.phase === 'before') return undefined
      return new DurableWrite(store, toRecord(event, ctx, null))
    },
    { acknowledge: true },
  )

  receiver.onError((err) => {
    if (err.isRejection) {
      metrics.rejections.inc({ cause: err.code })
      store.countRejection(err.code)
    } else {
      metrics.failures.inc({ cause: err.code })
    }
  })

  const debug = logger.isLevelEnabled('debug')
  // Counted in plain numbers, read when /metrics is scraped (callback-tally.ts). The command label
  // is bounded (commandLabel), and its string is the catalogue's own, so each lookup hits a cached hash.
  const { callbacks, duration } = metrics
  receiver.onAnswer((o) => {
    const outcome = outcomeLabel(o)
    const before = o.ctx?.phase === 'before'
    callbacks.count(commandLabel(o.command), outcome)
    duration.observe(outcome === 'rejected' ? 'rejected' : before ? 'before' : 'after', o.durationMs / 1000)
    if (before && o.ctx !== undefined && o.event !== undefined && o.status === 200) {
      const decision = o.verdict === undefined ? null : recordOf(o.verdict, o.fallback, o.ctx.meta)
      if (decision !== null && (decision.rule !== null || decision.action !== null)) {
        metrics.decisions.count(decision.rule ?? 'none', decision.action ?? 'none', decision.verdict)
      }
      store.enqueue(toRecord(o.event, o.ctx, decision))
    }
    if (debug)
      logger.debug(
        { requestId: o.requestId, command: o.command, status: o.status, outcome, durationMs: Math.round(o.durationMs * 1000) / 1000 },
        'callback answered',
      )
  })
}
