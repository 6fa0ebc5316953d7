/**
 * The one envelope every sink sends (the Redis entry's `event` field, the NATS message data, the
 * webhook body): `{ id, key, command, sdkAppId, receivedAt, event, decision }`, JSON.
 *
 * `event` is the callback body as received: its bytes are spliced in (it was parsed as JSON when
 * it was received), so numbers keep every digit they had — `JSON.parse` would round integers past
 * 2^53, and a consumer de-duplicating or joining by such a number would then miss.
 */
import type { OutboxEvent } from './outbox.js'

/** The envelope, parsed. */
export interface SinkEnvelope {
  /** The store's sequence number of the event; increasing in delivery order within one writer. */
  id: number
  /** The idempotency key: the same for every delivery of one event, and for Tencent's redeliveries of one callback. */
  key: string
  command: string
  sdkAppId: string
  /** ms since the epoch. */
  receivedAt: number
  /** The callback body as received, parsed. */
  event: unknown
  /** The before-send decision that was answered, or null. */
  decision: Record<string, unknown> | null
}

const BOM = 0xfeff

/**
 * The body's text as one JSON value. A recorded body was parsed as JSON when it was received, so
 * its bytes are spliced in as they are (without a BOM or surrounding white space); only an empty
 * body, which no accepted callback has, becomes `null`.
 */
function bodyJson(raw: Uint8Array): string {
  let text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
  if (text.charCodeAt(0) === BOM) text = text.slice(1)
  text = text.trim()
  return text === '' ? 'null' : text
}

/**
 * The envelope's JSON text for an event read from the outbox.
 * @example envelopeJson(event) // '{"id":42,"key":"…","command":"Group.CallbackAfterSendMsg",…}'
 */
export function envelopeJson(e: OutboxEvent): string {
  // The decision is JSON timhook wrote itself.
  const decision = e.decision === null || e.decision === '' ? 'null' : e.decision
  return `{"id":${e.id},"key":${JSON.stringify(e.key)},"command":${JSON.stringify(e.command)},"sdkAppId":${JSON.stringify(e.sdkAppId)},"receivedAt":${e.receivedAt},"event":${bodyJson(e.raw)},"decision":${decision}}`
}
