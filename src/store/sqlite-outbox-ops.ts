/**
 * The SQLite outbox's statements (run in the outbox thread, src/store/sqlite-outbox-thread.ts).
 * SQLite has one writer at a time, so id order is commit order: the cursor is the last id.
 * Leases use this machine's clock (a SQLite file is served from one machine).
 */
import type { DeadLetter, OutboxEvent, ReplayFrom, SinkCursor, SinkStatusRow } from '../sinks/outbox.js'
import { immediate, type DatabaseSync } from './sqlite-driver.js'
import { storedDecision } from './sql.js'
import { firstIdReceivedFrom } from './sqlite-sql.js'

type Row = Record<string, unknown>
type Param = string | number | null | Uint8Array

const EVENT_COLUMNS = `id, idem_key, command, sdk_app_id, received_at, raw, ${storedDecision()} AS decision`

const eventOf = (r: Row): OutboxEvent => ({
  position: String(r.id),
  id: Number(r.id),
  key: r.idem_key as string,
  command: r.command as string,
  sdkAppId: r.sdk_app_id as string,
  receivedAt: Number(r.received_at),
  raw: r.raw as Uint8Array,
  decision: (r.decision as string | null) ?? null,
})

function position(p: string): number {
  if (!/^\d+$/.test(p)) throw new Error(`not a SQLite outbox position: ${JSON.stringify(p)}`)
  return Number(p)
}

/** The operations, by name, over one connection. */
export function outboxOps(db: DatabaseSync) {
  const cache = new Map<string, ReturnType<DatabaseSync['prepare']>>()
  const st = (text: string) => {
    let s = cache.get(text)
    if (s === undefined) cache.set(text, (s = db.prepare(text)))
    return s
  }
  const all = (text: string, ...params: Param[]) => st(text).all(...params) as Row[]
  const run = (text: string, ...params: Param[]) => Number(st(text).run(...params).changes)

  const advance = (sink: string, holder: string, epoch: number, to: string) =>
    run(
      `UPDATE sinks SET cursor_id = ?, updated_at = ? WHERE name = ? AND holder = ? AND epoch = ?`,
      position(to),
      Date.now(),
      sink,
      holder,
      epoch,
    ) > 0

  return {
    read(p: string, limit: number): OutboxEvent[] {
      return all(`SELECT ${EVENT_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?`, position(p), limit).map(eventOf)
    },
    lease(sink: string, holder: string, ttlMs: number, start: 'beginning' | 'end'): SinkCursor | null {
      return immediate(db, () => {
        run(
          `INSERT INTO sinks (name, cursor_id) VALUES (?, CASE WHEN ? = 'end' THEN COALESCE((SELECT MAX(id) FROM events), 0) ELSE 0 END) ON CONFLICT (name) DO NOTHING`,
          sink,
          start,
        )
        const now = Date.now()
        const r = all(
          `UPDATE sinks SET holder = ?, lease_until = ? WHERE name = ? AND (holder = ? OR holder IS NULL OR lease_until IS NULL OR lease_until < ?) RETURNING cursor_id, epoch`,
          holder,
          now + ttlMs,
          sink,
          holder,
          now,
        )[0]
        return r === undefined ? null : { position: String(r.cursor_id), epoch: Number(r.epoch) }
      })
    },
    release(sink: string, holder: string): void {
      run(`UPDATE sinks SET holder = NULL, lease_until = NULL WHERE name = ? AND holder = ?`, sink, holder)
    },
    advance(
      sink: string,
      holder: string,
      epoch: number,
      to: string,
      deadLetter?: { event: OutboxEvent; reason: string; attempts: number },
    ): boolean {
      if (deadLetter === undefined) return advance(sink, holder, epoch, to)
      return immediate(db, () => {
        if (!advance(sink, holder, epoch, to)) return false
        const e = deadLetter.event
        run(
          `INSERT INTO sink_dead_letters (sink, event_id, idem_key, command, reason, attempts, at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (sink, event_id) DO UPDATE SET reason = excluded.reason, attempts = sink_dead_letters.attempts + excluded.attempts, at = excluded.at, redrive = 0`,
          sink,
          e.id,
          e.key,
          e.command,
          deadLetter.reason.slice(0, 1000),
          deadLetter.attempts,
          Date.now(),
        )
        return true
      })
    },
    lag(p: string, cap: number): { events: number; oldestAt: number | null } {
      const r = all(
        `SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM (SELECT received_at FROM events WHERE id > ? ORDER BY id LIMIT ?)`,
        position(p),
        cap,
      )[0]!
      return { events: Number(r.n), oldestAt: r.oldest == null ? null : Number(r.oldest) }
    },
    replay(sink: string, from: ReplayFrom): SinkCursor | string {
      const first =
        'id' in from
          ? all(`SELECT MIN(id) AS id FROM events WHERE id >= ?`, from.id)[0]
          : all(`SELECT MIN(id) AS id FROM events WHERE id >= ${firstIdReceivedFrom('events')}`, from.time, from.time)[0]
      if (first?.id == null)
        return `no event ${'id' in from ? `with id ${from.id} or later` : `received at or after ${new Date(from.time).toISOString()}`}`
      const r = all(
        `INSERT INTO sinks (name, cursor_id, epoch, updated_at) VALUES (?, ?, 1, ?)
         ON CONFLICT (name) DO UPDATE SET cursor_id = excluded.cursor_id, epoch = sinks.epoch + 1, updated_at = excluded.updated_at
         RETURNING cursor_id, epoch`,
        sink,
        Number(first.id) - 1,
        Date.now(),
      )[0]!
      return { position: String(r.cursor_id), epoch: Number(r.epoch) }
    },
    status(): SinkStatusRow[] {
      return all(`SELECT s.*, (SELECT COUNT(*) FROM sink_dead_letters d WHERE d.sink = s.name) AS dead FROM sinks s ORDER BY s.name`).map(
        (r) => ({
          name: r.name as string,
          position: String(r.cursor_id),
          lastId: Number(r.cursor_id) === 0 ? null : Number(r.cursor_id),
          epoch: Number(r.epoch),
          holder: (r.holder as string | null) ?? null,
          leaseUntil: r.lease_until == null ? null : Number(r.lease_until),
          updatedAt: r.updated_at == null ? null : Number(r.updated_at),
          deadLetters: Number(r.dead),
        }),
      )
    },
    deadLetters(sink: string, limit: number): DeadLetter[] {
      return all(
        `SELECT event_id, idem_key, command, reason, attempts, at, redrive FROM sink_dead_letters WHERE sink = ? ORDER BY event_id LIMIT ?`,
        sink,
        limit,
      ).map((r) => ({
        id: Number(r.event_id),
        key: r.idem_key as string,
        command: r.command as string,
        reason: r.reason as string,
        attempts: Number(r.attempts),
        at: Number(r.at),
        redrive: Number(r.redrive) === 1,
      }))
    },
    redrive(sink: string, ids?: number[]): number {
      if (ids === undefined) return run(`UPDATE sink_dead_letters SET redrive = 1 WHERE sink = ?`, sink)
      return immediate(db, () =>
        ids.reduce((n, id) => n + run(`UPDATE sink_dead_letters SET redrive = 1 WHERE sink = ? AND event_id = ?`, sink, id), 0),
      )
    },
    redrives(sink: string, limit: number): OutboxEvent[] {
      return all(
        `SELECT e.id, e.idem_key, e.command, e.sdk_app_id, e.received_at, e.raw, ${storedDecision('e')} AS decision FROM sink_dead_letters d JOIN events e ON e.id = d.event_id
         WHERE d.sink = ? AND d.redrive = 1 ORDER BY d.event_id LIMIT ?`,
        sink,
        limit,
      ).map(eventOf)
    },
    settleRedrive(sink: string, id: number, failure?: { reason: string }): void {
      if (failure === undefined) run(`DELETE FROM sink_dead_letters WHERE sink = ? AND event_id = ?`, sink, id)
      else
        run(
          `UPDATE sink_dead_letters SET redrive = 0, reason = ?, attempts = attempts + 1, at = ? WHERE sink = ? AND event_id = ?`,
          failure.reason.slice(0, 1000),
          Date.now(),
          sink,
          id,
        )
    },
  }
}

export type OutboxOps = ReturnType<typeof outboxOps>
