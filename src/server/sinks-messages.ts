/** What serve and its sinks' delivery loops (sinks-thread.ts, a child process or a thread) say to each other. */
import type { BackoffOptions } from '../sinks/backoff.js'
import type { SinkConfig } from '../sinks/config.js'
import type { SinkLiveStatus } from '../sinks/run-sinks.js'
import type { SinkFailureReason } from '../sinks/sink.js'

/** Delivery loop timings (tests shorten them). */
export interface SinkTuning {
  /** Lease duration, ms (how soon another instance takes over a dead one's sinks). */
  leaseTtlMs?: number
  pollMs?: number
  batchSize?: number
  backoff?: BackoffOptions
  behindAfterMs?: number
  /**
   * How long a start of the delivery loops may take before it counts as failed, ms (default
   * 60,000): the child is killed, and started again after the restart pause (at serve's own start,
   * serve fails instead). Without it a child hung before it is ready (an unresponsive database, a
   * debugger flag in `NODE_OPTIONS`) would stop delivery silently for good.
   */
  startTimeoutMs?: number
}

export interface SinksThreadData {
  configs: SinkConfig[]
  db: string
  schema: string
  holder: string
  tuning: SinkTuning
  /** Cursor and lease writes are asked of the parent (`outbox` messages), not run here. */
  writesViaParent: boolean
}

/** The outbox operations a child asks its parent to run (the rest it runs itself). */
export const PARENT_OPS = ['lease', 'release', 'advance', 'replay', 'status', 'deadLetters', 'redrive', 'settleRedrive'] as const
export type ParentOp = (typeof PARENT_OPS)[number]

export type ToSinksThread =
  | { type: 'wake' }
  | { type: 'close' }
  | { type: 'outboxDone'; id: number; ok: true; value: unknown }
  | { type: 'outboxDone'; id: number; ok: false; message: string }
export type FromSinksThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'status'; status: SinkLiveStatus[] }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; obj: object; msg: string }
  | { type: 'delivered'; sink: string; count: number }
  | { type: 'failure'; sink: string; reason: SinkFailureReason }
  | { type: 'deadLetter'; sink: string }
  | { type: 'closed' }
  | { type: 'outbox'; id: number; op: ParentOp; args: unknown[] }
