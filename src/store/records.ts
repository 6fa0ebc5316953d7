/**
 * What the server records, and how one accepted callback becomes rows: an event-log entry, and
 * for the message commands a message or a recall (a before-send's decision is in its event row).
 * Pure: both backends apply the same plan, so SQLite and PostgreSQL cannot drift in what they keep.
 */
import { beforeSendEventKey, callbackKeys, idInt, idText, type CallbackKeys } from '../protocol/idempotency-key.js'

/** The before-send decision taken for a message, as recorded (policy fields are null without a policy). */
export interface DecisionRecord {
  verdict: 'allow' | 'deny' | 'drop'
  /** True when the answer replaced `MsgBody` or `CloudCustomData`. */
  rewritten: boolean
  /** A custom deny code, when one was sent. */
  code: number | null
  /** True when the receiver sent its fallback verdict (late, failed or invalid decision). */
  fallback: boolean
  rule: string | null
  action: string | null
  reason: string | null
  dryRun: boolean
}

/**
 * The JSON of the commonest decision: a policy's "no rule matched" (allow, nothing rewritten, no
 * rule, not a dry run) — every before-send of a policy with no rules, and most of a real one's.
 * It is not stored: its event row keeps `verdict` = 'allow' and a NULL `decision`, which no other
 * decision leaves (every other one stores its JSON, and a row without a decision has no verdict),
 * and every read gives this JSON back (src/store/sql.ts `storedDecision`). So the record an empty
 * policy produces costs the writer what a record without a policy does, less ~125 bytes a row in
 * the hand-over, the row and the WAL than before: docs/policy.md.
 */
export const NO_MATCH_DECISION_JSON = writeDecisionJson({
  verdict: 'allow',
  rewritten: false,
  code: null,
  fallback: false,
  rule: null,
  action: 'allow',
  reason: 'no rule matched',
  dryRun: false,
})

// The JSON of a frozen record (the recorder shares one per shared policy decision), written once.
const frozenJson = new WeakMap<DecisionRecord, string>()

/** The decision as stored: JSON, in this key order (a template measured no faster: bench/serialise.ts). */
export function decisionJson(d: DecisionRecord): string {
  if (!Object.isFrozen(d)) return writeDecisionJson(d)
  let json = frozenJson.get(d)
  if (json === undefined) frozenJson.set(d, (json = writeDecisionJson(d)))
  return json
}

/** The event row's `decision` column: the JSON, or null for the no-match decision (implied by its verdict, above). */
export function storedDecisionJson(d: DecisionRecord): string | null {
  const json = decisionJson(d)
  return json === NO_MATCH_DECISION_JSON ? null : json
}

function writeDecisionJson(d: DecisionRecord): string {
  return JSON.stringify({
    verdict: d.verdict,
    rewritten: d.rewritten === true,
    code: typeof d.code === 'number' && Number.isFinite(d.code) ? d.code : null,
    fallback: d.fallback === true,
    rule: d.rule ?? null,
    action: d.action ?? null,
    reason: d.reason ?? null,
    dryRun: d.dryRun === true,
  })
}

/** One accepted callback. */
export interface CallbackRecord {
  command: string
  sdkAppId: string
  clientIp: string | null
  optPlatform: string | null
  /** ms since the epoch. */
  receivedAt: number
  requestId: string
  /** The body exactly as received. */
  rawBody: Buffer
  /** The parsed (and decoded) body. */
  body: Record<string, unknown>
  /** False when the body did not match its command's schema. */
  valid: boolean
  decision: DecisionRecord | null
}

export interface EventRow {
  kind: 'event'
  idempotencyKey: string
  command: string
  sdkAppId: string
  clientIp: string | null
  optPlatform: string | null
  receivedAt: number
  requestId: string
  raw: Buffer
  valid: boolean
  verdict: string | null
  rule: string | null
  /** The decision's JSON; null without a decision, and for the no-match one (`NO_MATCH_DECISION_JSON`: its verdict says it). */
  decision: string | null
  /**
   * For a before-send whose decision should reach its message: the message's `sendKey`, so that a
   * message stored before its decision (out of order) gets it now.
   */
  sendKey: string | null
}

export interface MessageRow {
  kind: 'message'
  /** `g|GroupId|TopicId|MsgSeq` or `c|MsgKey`. */
  key: string
  /** Links the message to its before-send decision. */
  sendKey: string
  /**
   * The idempotency key of its before-send event, whose decision it takes when already stored
   * ('' when none can exist); `decisionKeyBare` is the same without `MsgId`, for a before-send that
   * had none.
   */
  decisionKey: string
  decisionKeyBare: string
  family: 'group' | 'c2c'
  groupId: string | null
  topicId: string | null
  msgSeq: number | null
  msgKey: string | null
  fromAccount: string | null
  toAccount: string | null
  /** `MsgTime` in seconds, when sent. */
  msgTime: number | null
  receivedAt: number
  /** The after-send callback body, JSON. */
  body: string
}

export interface RecallRow {
  kind: 'recall'
  /** The message key, as in MessageRow. */
  key: string
  recalledAt: number
  recalledBy: string | null
}

export interface RejectionRow {
  kind: 'rejection'
  cause: string
}

export type WriteRow = EventRow | MessageRow | RecallRow | RejectionRow

const str = (v: unknown): string | null => idText(v) ?? null

/** An integer that both backends store as a 64-bit integer, or null. Callbacks are parsed liberally; storage is not. */
const int = (v: unknown): number | null => idInt(v) ?? null

/** The rows one accepted callback produces, in the order they must be applied. */
export function planWrites(record: CallbackRecord): WriteRow[] {
  const { body, command } = record
  // Every key of the callback, built once (escaping each id once), for all of its rows.
  const keys = callbackKeys(command, body, record.rawBody)
  const rows: WriteRow[] = [eventRow(record, keys)]
  switch (command) {
    case 'Group.CallbackAfterSendMsg':
    case 'C2C.CallbackAfterSendMsg': {
      const message = messageRow(record, keys)
      if (message !== undefined) rows.push(message)
      break
    }
    case 'Group.CallbackAfterRecallMsg':
    case 'C2C.CallbackAfterMsgWithDraw':
      recallRows(record, keys, rows)
      break
  }
  return rows
}

/** The event-log row: the callback as received, with its decision when it had one. */
function eventRow(record: CallbackRecord, keys: CallbackKeys): EventRow {
  const { command, decision } = record
  // A decision reaches its message through the message's send key (the before-send's event key
  // is made from it). A refused message is never delivered, so its decision stays in its event
  // row alone. (A silent drop's is linked: whether Tencent sends an after-send for it is not documented.)
  const linkable =
    decision !== null &&
    decision.verdict !== 'deny' &&
    (command === 'Group.CallbackBeforeSendMsg' || command === 'C2C.CallbackBeforeSendMsg')
  return {
    kind: 'event',
    idempotencyKey: keys.event,
    command,
    sdkAppId: record.sdkAppId,
    clientIp: record.clientIp,
    optPlatform: record.optPlatform,
    receivedAt: record.receivedAt,
    requestId: record.requestId,
    raw: record.rawBody,
    valid: record.valid,
    verdict: decision?.verdict ?? null,
    rule: decision?.rule ?? null,
    decision: decision === null ? null : storedDecisionJson(decision),
    sendKey: linkable ? (keys.send ?? null) : null,
  }
}

/** An after-send's message row, linked to its before-send's decision; undefined when the body names no message. */
function messageRow(record: CallbackRecord, keys: CallbackKeys): MessageRow | undefined {
  const { body } = record
  if (keys.message === undefined) return undefined
  const common = {
    kind: 'message' as const,
    key: keys.message,
    fromAccount: str(body.From_Account),
    msgTime: int(body.MsgTime),
    receivedAt: record.receivedAt,
    body: JSON.stringify(body),
  }
  if (keys.group !== undefined) {
    const { groupId, topicId, msgSeq } = keys.group
    return {
      ...common,
      sendKey: keys.send ?? '',
      decisionKey: keys.sendWithMsgId === undefined ? '' : beforeSendEventKey('group', keys.sendWithMsgId),
      decisionKeyBare: keys.send === undefined ? '' : beforeSendEventKey('group', keys.send),
      family: 'group',
      groupId,
      topicId,
      msgSeq,
      msgKey: null,
      toAccount: null,
    }
  }
  const decisionKey = beforeSendEventKey('c2c', keys.message)
  return {
    ...common,
    sendKey: keys.message,
    decisionKey,
    decisionKeyBare: decisionKey,
    family: 'c2c',
    groupId: null,
    topicId: null,
    msgSeq: int(body.MsgSeq),
    msgKey: keys.msgKey!,
    toAccount: str(body.To_Account),
  }
}

/** A recall row per recalled message (a group recall names several, a withdraw one). */
function recallRows(record: CallbackRecord, keys: CallbackKeys, rows: WriteRow[]): void {
  const { body } = record
  const recalledAt = int(body.EventTime) ?? record.receivedAt
  if (keys.recalled !== undefined) {
    const recalledBy = str(body.Operator_Account)
    for (const key of keys.recalled) rows.push({ kind: 'recall', key, recalledAt, recalledBy })
  } else if (keys.message !== undefined) {
    // The withdraw callback names no operator: only the sender (or an admin acting for them) can withdraw.
    rows.push({ kind: 'recall', key: keys.message, recalledAt, recalledBy: str(body.Operator_Account) ?? str(body.From_Account) })
  }
}
