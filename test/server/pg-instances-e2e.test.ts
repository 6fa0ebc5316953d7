/**
 * Three `timhook serve` processes over one PostgreSQL schema, over HTTP, all at once: duplicates
 * posted to two instances at the same moment, a message and its recall at the same moment on
 * different instances, a before-send answered by one instance and its after-send stored by
 * another — then one instance killed with kill -9 in the middle of that load and restarted.
 * The run counts acknowledged, stored, duplicates, unlinked recalls and unlinked decisions; the
 * last three must be 0, and every acknowledged message must be stored.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import pg from 'pg'
import { openStore } from '../../src/store/open-store.js'
import { PG_SKIP, PG_URL, allPages, dropSchema } from '../store/helpers.js'
import {
  ADMIN,
  admin,
  groupAfterSend,
  groupBeforeSend,
  groupRecall,
  postCallback,
  spawnServer,
  tempDir,
  type ChildServer,
} from './helpers.js'

const MESSAGES = 240 // per phase
const CONCURRENCY = 24

interface Tally {
  /** Message number → acknowledged after-send, recall, before-send. */
  sent: Map<number, { message: boolean; recall: boolean; before: boolean }>
}

const after = (n: number) => ({ ...groupAfterSend('e2e', n), Random: 100_000 + n })
const before = (n: number) => ({ ...groupBeforeSend('e2e', 100_000 + n) })

/** Posts; a connection error (the instance was killed) counts as not acknowledged. */
async function post(server: ChildServer, body: Record<string, unknown>): Promise<boolean> {
  try {
    const res = await postCallback(server.url, body)
    return res.status === 200 && res.answer.ActionStatus === 'OK'
  } catch {
    return false
  }
}

async function runPhase(
  servers: () => ChildServer[],
  from: number,
  tally: Tally,
  duringLoad?: (done: number) => Promise<void>,
): Promise<void> {
  let next = from
  let done = 0
  const worker = async () => {
    while (next < from + MESSAGES) {
      const n = next++
      const s = servers()
      const [a, b] = [s[n % s.length]!, s[(n + 1) % s.length]!]
      const entry = { message: false, recall: false, before: false }
      tally.sent.set(n, entry)
      const ack = (key: keyof typeof entry) => (ok: boolean) => {
        if (ok) entry[key] = true
        return ok
      }
      switch (n % 3) {
        case 0: // the same after-send to two instances at the same moment
          await Promise.all([post(a, after(n)).then(ack('message')), post(b, after(n)).then(ack('message'))])
          break
        case 1: // a message and its recall at the same moment, on different instances
          await Promise.all([post(a, after(n)).then(ack('message')), post(b, groupRecall('e2e', [n])).then(ack('recall'))])
          break
        case 2: // Tencent's order: before-send answered by one instance, then the after-send to another
          if (await post(a, before(n)).then(ack('before'))) await post(b, after(n)).then(ack('message'))
          break
      }
      done++
      await duringLoad?.(done)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

describe('three instances over one PostgreSQL, over HTTP', { skip: PG_SKIP }, () => {
  it('stores every acknowledged callback once and links every recall and decision, with one instance killed and restarted', async () => {
    const schema = `e2e_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    // A policy, so that every before-send has a decision to link (a rule that allows everything).
    const tmp = tempDir()
    const policy = join(tmp.dir, 'policy.yaml')
    writeFileSync(policy, `rules:\n  - name: seen\n    when: { always: true }\n    then: allow\n`)
    const args = ['--db', PG_URL!, '--pg-schema', schema, '--admin-token', ADMIN, '--log-level', 'info', '--policy', policy]
    let servers: ChildServer[] = []
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    try {
      servers = await Promise.all([spawnServer(args), spawnServer(args), spawnServer(args)])
      const tally: Tally = { sent: new Map() }

      // Phase 1: all three up — nothing may be answered FAIL (no deadlock reaches a caller).
      await runPhase(() => servers, 0, tally)
      const notAcked = [...tally.sent.entries()].filter(
        ([n, e]) => !e.message || (n % 3 === 1 && !e.recall) || (n % 3 === 2 && !e.before),
      ).length
      assert.equal(notAcked, 0, 'every callback acknowledged while all instances are up')

      // Phase 2: the same load; one instance killed with kill -9 in the middle, then restarted.
      let killed = false
      let restarted: Promise<void> | undefined
      await runPhase(
        () => servers,
        MESSAGES,
        tally,
        async (done) => {
          if (killed || done < MESSAGES / 3) return
          killed = true
          const victim = servers[2]!
          victim.proc.kill('SIGKILL')
          await victim.exited
          servers = servers.slice(0, 2)
          restarted = spawnServer(args).then((s) => void (servers = [...servers, s]))
        },
      )
      await restarted
      assert.ok(killed)
      for (const s of servers) assert.equal((await fetch(`${s.url}/readyz`)).status, 200)

      // Stop gracefully: every queued before-send record is committed before the counting.
      const stats = (await admin(servers[0]!.url, '/api/stats')).body as {
        messages: { total: number; recalled: number; recallsAwaitingMessage: number }
      }
      await Promise.all(servers.map(async (s) => (s.proc.kill('SIGTERM'), await s.exited)))
      servers = []

      await client.connect()
      const stored = new Map<number, { n: number; recalled: boolean }>()
      for (const r of (
        await client.query(
          `SELECT msg_seq::int AS seq, count(*)::int AS n, bool_or(recalled_at IS NOT NULL) AS recalled FROM messages WHERE body IS NOT NULL GROUP BY msg_seq`,
        )
      ).rows) {
        stored.set(r.seq, { n: r.n, recalled: r.recalled })
      }
      const befores = new Set(
        (
          await client.query(
            `SELECT (convert_from(raw, 'UTF8')::json->>'Random')::int - 100000 AS n FROM events WHERE command = 'Group.CallbackBeforeSendMsg'`,
          )
        ).rows.map((r) => r.n as number),
      )
      // Decisions as the admin API shows them.
      const store = await openStore(PG_URL!, { schema })
      const listed = await allPages((cursor) => store.listMessages({ groupId: 'e2e', limit: 500, cursor })).finally(() => store.close())
      const decided = new Set(
        listed.filter((m) => (m.decision as { rule?: string } | null)?.rule === 'seen').map((m) => m.MsgSeq as number),
      )
      const recallsAwaiting = (await client.query(`SELECT count(*)::int AS n FROM messages WHERE body IS NULL`)).rows[0].n as number

      const acknowledged = [...tally.sent.entries()].filter(([, e]) => e.message).map(([n]) => n)
      const lost = acknowledged.filter((n) => !stored.has(n))
      const duplicates = [...stored.values()].filter((s) => s.n > 1).length
      const unlinkedRecalls = [...tally.sent.entries()].filter(([n, e]) => e.recall && stored.has(n) && !stored.get(n)!.recalled).length
      const unlinkedDecisions = [...stored.keys()].filter((n) => befores.has(n) && !decided.has(n)).length
      const counts = {
        acknowledged: acknowledged.length,
        stored: stored.size,
        lost: lost.length,
        duplicates,
        unlinkedRecalls,
        unlinkedDecisions,
      }
      assert.deepEqual(
        { lost: counts.lost, duplicates, unlinkedRecalls, unlinkedDecisions },
        { lost: 0, duplicates: 0, unlinkedRecalls: 0, unlinkedDecisions: 0 },
        JSON.stringify(counts),
      )
      assert.ok(acknowledged.length >= MESSAGES, JSON.stringify(counts))
      // The stats read before the stop agree with the rows (no callback was in flight then).
      const recalledRows = [...stored.values()].filter((s) => s.recalled).length
      assert.deepEqual(
        [stats.messages.total, stats.messages.recalled, stats.messages.recallsAwaitingMessage],
        [stored.size, recalledRows, recallsAwaiting],
      )
    } finally {
      for (const s of servers) s.proc.kill('SIGKILL')
      await client.end().catch(() => {})
      await dropSchema(schema)
      tmp.cleanup()
    }
  })
})
