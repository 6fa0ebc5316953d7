/** What a sink type implements: send envelopes, in order, and say how far it got. */
import type { OutboxEvent } from './outbox.js'

/**
 * Why a delivery failed. `reason` is the metrics label (`timhook_sink_failures_total{reason}`).
 * `permanent`: the destination refused this event itself (a webhook's 4xx other than 408/429);
 * repeated, the event goes to the dead-letter list. Anything else is retried without end.
 */
export class SinkFailure extends Error {
  readonly reason: SinkFailureReason
  readonly permanent: boolean
  /** A delay the destination asked for (Retry-After), ms. */
  readonly retryAfterMs: number | undefined
  constructor(reason: SinkFailureReason, message: string, options: { permanent?: boolean; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'SinkFailure'
    this.reason = reason
    this.permanent = options.permanent === true
    this.retryAfterMs = options.retryAfterMs
  }
}

export type SinkFailureReason = 'timeout' | 'unavailable' | 'http_4xx' | 'http_5xx' | 'http_other' | 'rejected' | 'error'

/** What one `send` achieved: the first `confirmed` events are confirmed by the destination; `failure` stopped the rest. */
export interface SendResult {
  confirmed: number
  failure?: SinkFailure
}

export interface Sink {
  readonly name: string
  readonly type: string
  /** Commands this sink receives; undefined: every command. */
  readonly commands: ReadonlySet<string> | undefined
  /** Permanent refusals of one event in a row before it is dead-lettered (default: the runner's). */
  readonly deadLetterAfter?: number
  /**
   * Sends the events in order. Resolves (never rejects) with how many of them, from the first, the
   * destination confirmed. Events past the first failure may or may not have arrived: they are sent
   * again (at least once; consumers de-duplicate by key).
   */
  send(events: OutboxEvent[]): Promise<SendResult>
  /** Closes connections. */
  close(): Promise<void>
}

/** A failure from anything thrown while sending (connection refused, timeout, …). */
export function failureOf(err: unknown): SinkFailure {
  if (err instanceof SinkFailure) return err
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null
  const code = String(e?.code ?? '')
  const name = String(e?.name ?? '')
  const message = String(e?.message ?? err)
  if (/TIMEOUT|ETIMEDOUT/i.test(code) || /Timeout/i.test(name) || /timeout|timed out/i.test(message))
    return new SinkFailure('timeout', message, { cause: err })
  if (
    /ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|CONNECTION|DISCONNECT|UND_ERR_SOCKET|UND_ERR_CLOSED/i.test(
      code,
    ) ||
    /closed|disconnect|not connected|connection|no responders|socket/i.test(message)
  ) {
    return new SinkFailure('unavailable', message, { cause: err })
  }
  return new SinkFailure('error', message, { cause: err })
}

/** Sends items one after another until one fails: the confirmed prefix and the failure. */
export async function sendEach<T>(items: readonly T[], send: (item: T) => Promise<void>): Promise<SendResult> {
  for (let i = 0; i < items.length; i++) {
    try {
      await send(items[i]!)
    } catch (err) {
      return { confirmed: i, failure: failureOf(err) }
    }
  }
  return { confirmed: items.length }
}

/** The result of sends started together, in order: confirmed up to the first that failed. */
export async function settleInOrder(sends: Array<Promise<unknown>>): Promise<SendResult> {
  const results = await Promise.allSettled(sends)
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!
    if (r.status === 'rejected') return { confirmed: i, failure: failureOf(r.reason) }
  }
  return { confirmed: results.length }
}
