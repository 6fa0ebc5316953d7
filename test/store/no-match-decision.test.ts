/**
 * The no-match decision (a policy's "no rule matched": allow, nothing rewritten) is stored as its
 * verdict alone — `allow` and no JSON — and read back as its JSON everywhere a decision is read: the
 * events and messages listings (a message stored after its before-send and one stored before it),
 * the sinks' outbox and its re-driven dead letters, on both backends. Any other decision keeps its
 * JSON (a generated property).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import pg from 'pg'
import { createPolicy } from '../../src/policy/index.js'
import { recordOf } from '../../src/server/attach-recorder.js'
import { openOutbox } from '../../src/store/open-outbox.js'
import { openStore } from '../../src/store/open-store.js'
import { decisionJson, NO_MATCH_DECISION_JSON, planWrites, type DecisionRecord } from '../../src/store/records.js'
import type { Store } from '../../src/store/store.js'
import { decision, dropSchema, groupBefore, groupSend, PG_SKIP, PG_URL, record } from './helpers.js'

const NO_MATCH = JSON.parse(NO_MATCH_DECISION_JSON) as Record<string, unknown>

/** The record the server makes of an empty policy's decision (src/server/attach-recorder.ts). */
function emptyPolicyRecord(): DecisionRecord {
  const d = createPolicy({ rules: [] }).decide(groupBefore('@x', 1))
  return recordOf(d.verdict, false, { policy: d })
}

interface Opened {
  store: Store
  db: string
  schema: string | undefined
  /** The stored `verdict` and `decision` columns of the event with this idempotency key. */
  stored(key: string): Promise<{ verdict: string | null; decision: string | null }>
  cleanup(): Promise<void>
}

async function open(kind: 'sqlite' | 'postgres'): Promise<Opened> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'timhook-nomatch-'))
    const db = join(dir, 'test.db')
    const store = await openStore(db)
    return {
      store,
      db,
      schema: undefined,
      async stored(key) {
        const file = new DatabaseSync(db, { readOnly: true })
        try {
          const row = file.prepare('SELECT verdict, decision FROM events WHERE idem_key = ?').get(key) as {
            verdict: string | null
            decision: string | null
          }
          return { ...row }
        } finally {
          file.close()
        }
      },
      async cleanup() {
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const schema = `t_nomatch_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const store = await openStore(PG_URL!, { schema })
  return {
    store,
    db: PG_URL!,
    schema,
    async stored(key) {
      const client = new pg.Client({ connectionString: PG_URL })
      await client.connect()
      try {
        const r = await client.query(`SELECT verdict, decision FROM ${schema}.events WHERE idem_key = $1`, [key])
        return r.rows[0] as { verdict: string | null; decision: string | null }
      } finally {
        await client.end()
      }
    },
    async cleanup() {
      await store.close()
      await dropSchema(schema)
    },
  }
}

const eventKey = (rec: ReturnType<typeof record>) => {
  const row = planWrites(rec)[0]!
  assert.equal(row.kind, 'event')
  return row.idempotencyKey
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`${kind}: the no-match decision stored as its verdict alone`, { skip: kind === 'postgres' && PG_SKIP }, () => {
    it('stores no JSON for it, and every read gives its JSON back', async () => {
      const t = await open(kind)
      try {
        const shared = emptyPolicyRecord()
        assert.equal(decisionJson(shared), NO_MATCH_DECISION_JSON, "an empty policy's record is the no-match decision")
        const ruled = decision({ rule: 'spam', action: 'deny', verdict: 'deny', reason: 'keyword' })
        // Message 1: before-send, then its message. Message 2: its message first, then its before-send.
        const before1 = record(groupBefore('@nm', 1001), { decision: shared })
        const before2 = record(groupBefore('@nm', 1002), { decision: { ...shared } })
        const before3 = record(groupBefore('@nm', 1003), { decision: ruled })
        const before4 = record(groupBefore('@nm', 1004))
        await t.store.write(before1)
        await t.store.write(record(groupSend('@nm', 1)))
        await t.store.write(record(groupSend('@nm', 2)))
        for (const r of [before2, before3, before4]) await t.store.write(r)

        // Stored: the verdict alone for the no-match decision (shared or not), the JSON for any other.
        assert.deepEqual(await t.stored(eventKey(before1)), { verdict: 'allow', decision: null })
        assert.deepEqual(await t.stored(eventKey(before2)), { verdict: 'allow', decision: null })
        assert.deepEqual(await t.stored(eventKey(before3)), { verdict: 'deny', decision: decisionJson(ruled) })
        assert.deepEqual(await t.stored(eventKey(before4)), { verdict: null, decision: null }, 'no decision: nothing')

        const events = (await t.store.listEvents({ command: 'Group.CallbackBeforeSendMsg', limit: 10 })).items
        assert.deepEqual(
          events.map((e) => e.decision),
          [null, JSON.parse(decisionJson(ruled)), NO_MATCH, NO_MATCH],
          'newest first: no decision, the rule, the no-match decision twice',
        )
        const messages = (await t.store.listMessages({ groupId: '@nm', limit: 10 })).items
        assert.deepEqual(
          messages.map((m) => [m.MsgSeq, m.decision]),
          [
            [2, NO_MATCH],
            [1, NO_MATCH],
          ],
          'stored after its before-send and before it alike',
        )
        const stats = await t.store.stats()
        assert.equal(stats.decisions.byVerdict.allow, 2)
        assert.equal(stats.decisions.byVerdict.deny, 1)

        // The sinks read the JSON too, from the outbox and from a re-driven dead letter.
        const outbox = await openOutbox(t.db, t.schema === undefined ? {} : { schema: t.schema })
        try {
          const cursor = await outbox.lease('s', 'me', 60_000, 'beginning')
          assert.ok(cursor !== null)
          const read = await outbox.read(cursor.position, 100)
          const byKey = new Map(read.map((e) => [e.key, e]))
          assert.equal(byKey.get(eventKey(before1))?.decision, NO_MATCH_DECISION_JSON)
          assert.equal(byKey.get(eventKey(before3))?.decision, decisionJson(ruled))
          assert.equal(byKey.get(eventKey(before4))?.decision, null)
          const first = byKey.get(eventKey(before1))!
          assert.equal(await outbox.advance('s', 'me', cursor.epoch, first.position, { event: first, reason: 'test', attempts: 1 }), true)
          assert.equal(await outbox.redrive('s'), 1)
          assert.deepEqual(
            (await outbox.redrives('s', 10)).map((e) => e.decision),
            [NO_MATCH_DECISION_JSON],
          )
        } finally {
          await outbox.close()
        }
      } finally {
        await t.cleanup()
      }
    })
  })
}

// A decision: any verdict, flags, code, rule, action and reason (the no-match one among them).
const anyDecision: fc.Arbitrary<DecisionRecord> = fc.record({
  verdict: fc.constantFrom('allow', 'deny', 'drop'),
  rewritten: fc.boolean(),
  code: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: null }),
  fallback: fc.boolean(),
  rule: fc.option(fc.constantFrom('r', 'spam', 'no rule matched'), { nil: null }),
  action: fc.option(fc.constantFrom('allow', 'deny', 'drop', 'mask', 'stamp'), { nil: null }),
  reason: fc.option(fc.constantFrom('no rule matched', 'keyword "x"', ''), { nil: null }),
  dryRun: fc.boolean(),
})

describe('sqlite: any decision reads back as its JSON (property)', () => {
  it('the stored form never changes what a listing returns', async () => {
    const t = await open('sqlite')
    try {
      let n = 0
      await fc.assert(
        fc.asyncProperty(fc.oneof(anyDecision, fc.constant(emptyPolicyRecord())), fc.boolean(), async (d, frozen) => {
          const group = `@p${n++}`
          await t.store.write(record(groupBefore(group, 1001), { decision: frozen ? Object.freeze({ ...d }) : d }))
          await t.store.write(record(groupSend(group, 1)))
          const event = (await t.store.listEvents({ command: 'Group.CallbackBeforeSendMsg', limit: 1 })).items[0]!
          assert.deepEqual(event.decision, JSON.parse(decisionJson(d)))
          const message = (await t.store.listMessages({ groupId: group, limit: 1 })).items[0]!
          assert.deepEqual(
            message.decision,
            d.verdict === 'deny' ? null : JSON.parse(decisionJson(d)),
            'a refused send’s decision is not taken',
          )
        }),
        { numRuns: 40 },
      )
    } finally {
      await t.cleanup()
    }
  })
})
