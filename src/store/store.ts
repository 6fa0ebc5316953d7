/**
 * The storage interface of `timhook serve`. Two implementations: SQLite (`openSqliteStore`) and
 * PostgreSQL (`openPostgresStore`); one test suite runs against both.
 */
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

/** A message: its after-send callback fields as Tencent named them, plus what timhook knows about it. */
export interface MessageItem {
  [field: string]: unknown
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
  /** The body as received, parsed (null when it is not JSON any more, which cannot happen for accepted callbacks). */
  body: unknown
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
}

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
  /** Writes a callback with the next commit, without waiting (before-send records). Kept and retried if a commit fails; dropped and counted past the cap. */
  enqueue(record: CallbackRecord): void
  /** Counts a rejected request (by error code) with the next commit. */
  countRejection(cause: string): void
  /** Resolves once everything queued so far is committed (or has failed). */
  flush(): Promise<void>
  listMessages(query: MessageQuery): Promise<Page<MessageItem>>
  listEvents(query: EventQuery): Promise<Page<EventItem>>
  stats(): Promise<Stats>
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
