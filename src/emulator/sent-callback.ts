import type { CallbackOutcome } from '../sender/callback-sender.js'

/** One callback the emulator sent (or, with no callback URL, would have sent). */
export interface SentCallback {
  /** Milliseconds since the epoch, when it was sent. */
  at: number
  command: string
  /** Path and query of the request (with `Sign`/`RequestTime` when a token is set). */
  target: string
  body: Record<string, unknown>
  /** Absent while the answer is outstanding. */
  outcome?: CallbackOutcome
}
