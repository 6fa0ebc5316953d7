/**
 * The storage interface of `timhook serve`. Two implementations: SQLite (`openSqliteStore`) and
 * PostgreSQL (`openPostgresStore`); one test suite runs against both.
 */
import type { HeldPage } from './held-page.js'
import type { CallbackRecord } from './records.js'

/** A page of results, newest first. `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export interface MessageQuery {
  groupId?: string
  topicId?: string
  /** `From_Account`. */
  from?: string
  /** `To_Account` (one-to-one messages). */
  to?: string
  recalled?: boolean
  /** Received at or after, ms since the epoch. */
  since?: number
  /** Received before, ms since the epoch. */
  until?: number
  limit: number
  cursor?: string
}

export interface EventQuery {
  command?: string
  since?: number
  until?: number
  limit: number
  cursor?: string
}

/**
 * Why a page shows a body other than parsed: `TOO_LARGE` (over the inline size: `body` is null),
 * `TOO_DEEP` (nested deeper than the receive-time limit: a row stored before the limit existed;
 * `body` is its text), `NOT_JSON` (`body` is its text). `size` is the whole body's size (bytes
 * of a raw body, characters of a message's JSON); `Store.readBody` reads it whole.
 */
export interface BodyNote {
  reason: 'TOO_LARGE' | 'TOO_DEEP' | 'NOT_JSON'
  size: number
}

/**
 * A message: its after-send callback fields as Tencent named them, plus what timhook knows about it.
 * When its stored body cannot be shown as fields (`bodyNote`), the item has the message's identity
 * (`GroupId`, `TopicId`, `MsgSeq`, `MsgKey`, `From_Account`, `To_Account`) and `body` instead.
 */
export interface MessageItem {
  [field: string]: unknown
  /** The row id (what `readBody` takes). */
  id: string
  bodyNote?: BodyNote
  /** ISO 8601, or null until recalled. */
  recalledAt: string | null
  recalledBy: string | null
  /** The before-send decision, when the before-send callback was seen. */
  decision: Record<string, unknown> | null
  receivedAt: string
}

export interface EventItem {
  id: string
  command: string
  sdkAppId: string
  clientIp: string | null
  optPlatform: string | null
  receivedAt: string
  requestId: string
  idempotencyKey: string
  /** How many times the callback was delivered; it is stored once. */
  deliveries: number
  valid: boolean
  decision: Record<string, unknown> | null
  /** The body as received, parsed; or, with `bodyNote`, its text or null. */
  body: unknown
  bodyNote?: BodyNote
}

/** A piece of a stored body (`Store.readBody`). */
export interface BodyChunk {
  /** The whole body's size: bytes of a raw body, characters of a message's JSON. */
  size: number
  /** Bytes of a raw body, text of a message's JSON. */
  chunk: Uint8Array | string
}

export interface Stats {
  events: { total: number; byCommand: Record<string, number> }
  decisions: { byVerdict: Record<string, number>; byRule: Record<string, number> }
  rejections: { byCause: Record<string, number> }
  messages: { total: number; recalled: number; recallsAwaitingMessage: number }
}

/** What a commit reports, for metrics and logs. */
export interface CommitReport {
  /** Records in the transaction. */
  size: number
  durationMs: number
  /** Why it failed; undefined when committed. */
  error: unknown
  /** Set when the database refused one record for its data (the batch was split; the others are committed): not an outage. */
  refused?: number
  /** Set for a readiness probe after failed commits (a transaction that holds no record). */
  probe?: boolean
  /** Set when the commit stored rows at a later time than they were received (see StampShift). */
  stampShift?: StampShift
}

/**
 * Rows a commit stored at a later `received_at` than their own receipt, by more than
 * STAMP_SHIFT_REPORTED_MS: SQLite keeps `received_at` non-decreasing with `id`, so after the clock
 * jumped forward and was set back, rows are stored at the jumped time until real time catches up.
 */
export interface StampShift {
  /** Rows stored later than received. */
  rows: number
  /** The largest shift among them, ms. */
  maxShiftMs: number
}

/** A row stored this much later than received (ms) is counted in StampShift; less is a request that took longer than the one before. */
export const STAMP_SHIFT_REPORTED_MS = 1000

/** What the writer queue turned away, since the store was opened. */
export interface StoreCounters {
  /** Fire-and-forget records (before-send records, counts) not stored: over the cap, refused, or unplannable. */
  dropped: number
  /** Records turned away at once because too much waited for the store already (`TIMHOOK_STORE_BACKLOG`). */
  backlogRefused: number
  /** Records the database refused for their data (`TIMHOOK_STORE_REFUSED`). */
  dataRefused: number
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  /**
   * Writes a callback; resolves once it is committed. Rejects when the commit failed, at once when
   * too much waits for the store already (`StoreBacklogError`), or when the database refused this
   * record (`StoreRefusedError`).
   */
  write(record: CallbackRecord): Promise<void>
  /**
   * `write` in callback form, with no promise per record (`timhook serve` answers every
   * after-callback through it): calls `committed` once the record is committed, or `failed` once
   * — at once when too much waits already (`StoreBacklogError`, before this returns) or when the
   * store is closed, later when the commit failed or the database refused this record. A callback
   * that throws is ignored (it cannot hold up the rest of its batch).
   */
  writeWith(record: CallbackRecord, committed: () => void, failed: (err: unknown) => void): void
  /** Writes a callback with the next commit, without waiting (before-send records). Kept and retried if a commit fails; dropped and counted past the cap. */
  enqueue(record: CallbackRecord): void
  /** Counts a rejected request (by error code) with the next commit. */
  countRejection(cause: string): void
  /** Resolves once everything queued so far is committed (or has failed). */
  flush(): Promise<void>
  listMessages(query: MessageQuery): Promise<Page<MessageItem>>
  listEvents(query: EventQuery): Promise<Page<EventItem>>
  /**
   * The admin API's answer for a listing: `pageJson` of the page (1 MiB at most), rendered where
   * the backend reads it — SQLite renders and UTF-8-encodes it in its reader thread and hands the
   * bytes over without a copy, so the event loop only writes them; a reader child process keeps
   * them and writes them into the connection itself (`HeldPage`).
   */
  listMessagesJson(query: MessageQuery): Promise<string | Uint8Array | HeldPage>
  listEventsJson(query: EventQuery): Promise<string | Uint8Array | HeldPage>
  stats(): Promise<Stats>
  /**
   * Reads a piece of a stored body — an event's raw body or a message's JSON — by row id: `length`
   * units from `offset` (0-based), so a body of any size is served in bounded pieces. Null when
   * there is no such row.
   */
  readBody(kind: 'event' | 'message', id: number, offset: number, length: number): Promise<BodyChunk | null>
  /** Resolves when the database answers. */
  ping(): Promise<void>
  /** Called after every commit attempt. */
  onCommit(listener: (report: CommitReport) => void): void
  /** Records waiting for the store: queued, being committed, or kept after a failed commit. */
  readonly pending: number
  /** Bytes (raw bodies) of those records. */
  readonly pendingBytes: number
  /** The error of the last commit when it failed (the database is unreachable, hung, full, locked); undefined once one succeeds. */
  readonly lastCommitError: Error | undefined
  readonly counters: StoreCounters
  /** Flushes and closes. */
  close(): Promise<void>
}
