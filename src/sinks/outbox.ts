/**
 * The outbox: what the delivery loop needs from the store where callbacks are recorded. timhook's
 * SQLite and PostgreSQL stores provide one (`openOutbox`); an application that records callbacks
 * its own way implements this interface over its own table.
 *
 * Positions are opaque strings that order events for delivery. The one rule an implementation
 * must keep: `read(p)` returns events in delivery order, and no event may later appear before an
 * event already returned (with several writers, an event whose transaction has not committed yet
 * must hold back every event after it — see the PostgreSQL outbox).
 */

/** One recorded callback, as the outbox reads it. */
export interface OutboxEvent {
  /** Where the event is in delivery order; the cursor is saved as this. */
  position: string
  /** The store's sequence number. */
  id: number
  /** Idempotency key. */
  key: string
  command: string
  sdkAppId: string
  /** ms since the epoch. */
  receivedAt: number
  /** The body exactly as received. */
  raw: Uint8Array
  /** The before-send decision, JSON text, or null. */
  decision: string | null
}

/** A sink's stored state, as its lease holder sees it. */
export interface SinkCursor {
  /** The position of the last event delivered (or skipped); delivery resumes after it. */
  position: string
  /** Changed by every replay: a holder whose epoch is stale reloads the position. */
  epoch: number
}

export interface SinkStatusRow {
  name: string
  position: string
  /** The id of the last event delivered, or null before the first. */
  lastId: number | null
  epoch: number
  holder: string | null
  /** ms since the epoch, or null. */
  leaseUntil: number | null
  /** ms since the epoch of the last cursor change, or null. */
  updatedAt: number | null
  deadLetters: number
}

export interface DeadLetter {
  id: number
  key: string
  command: string
  reason: string
  attempts: number
  /** ms since the epoch. */
  at: number
  /** True once re-driven: the loop delivers it again, ahead of new events. */
  redrive: boolean
}

/** Where a replay starts: an event id (delivered again, with everything after it), or a time (ms since the epoch). */
export type ReplayFrom = { id: number } | { time: number }

export interface Outbox {
  /** Up to `limit` events after `position`, in delivery order. */
  read(position: string, limit: number): Promise<OutboxEvent[]>
  /**
   * Takes or renews the lease of `sink` for `holder` for `ttlMs`; creates the sink's state when it is
   * new, at the start (`beginning`: every stored event; `end`: events recorded from now on).
   * Resolves to the cursor while `holder` holds the lease, or null while someone else does.
   */
  lease(sink: string, holder: string, ttlMs: number, start: 'beginning' | 'end'): Promise<SinkCursor | null>
  /** Gives the lease up (on a clean stop), so another instance takes over at once. */
  release(sink: string, holder: string): Promise<void>
  /**
   * Moves the cursor to `position` if `holder` still holds the lease and the epoch is unchanged;
   * with `deadLetter`, records that event in the dead-letter list in the same transaction.
   * Resolves to false (nothing written) otherwise.
   */
  advance(
    sink: string,
    holder: string,
    epoch: number,
    position: string,
    deadLetter?: { event: OutboxEvent; reason: string; attempts: number },
  ): Promise<boolean>
  /** How many events come after `position` (counting stops at `cap`), and when the first of them was received (ms since the epoch; null when none). */
  lag(position: string, cap: number): Promise<{ events: number; oldestAt: number | null }>
  /** Moves the cursor of `sink` back (or forward) so that delivery restarts at `from`; a new epoch. Returns the new cursor. */
  replay(sink: string, from: ReplayFrom): Promise<SinkCursor>
  /** Every sink's stored state. */
  status(): Promise<SinkStatusRow[]>
  deadLetters(sink: string, limit: number): Promise<DeadLetter[]>
  /** Marks dead letters (all of the sink's, or those ids) for delivery again; resolves to how many. */
  redrive(sink: string, ids?: number[]): Promise<number>
  /** The events of dead letters marked for re-drive, oldest first. */
  redrives(sink: string, limit: number): Promise<OutboxEvent[]>
  /** A re-driven dead letter was delivered (removed from the list), or failed again (`reason`: kept, unmarked). */
  settleRedrive(sink: string, id: number, failure?: { reason: string }): Promise<void>
  close(): Promise<void>
}

/** A replay that cannot start: no event at or after the point asked for. */
export class ReplayError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ReplayError'
  }
}
