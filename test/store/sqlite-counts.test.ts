/**
 * SQLite's `/api/stats` numbers are maintained by the commits, not counted from the tables: they
 * must equal what counting the tables gives, whatever the records, their order, their duplicates
 * and how they fall into batches — checked against a scan of the file after every run of
 * generated records. Any command, rule or cause name counts, `__proto__` included.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import * as sql from '../../src/store/sql.js'
import { openDatabase } from '../../src/store/sqlite-driver.js'
import { openStore } from '../../src/store/open-store.js'
import type { CallbackRecord } from '../../src/store/records.js'
import type { Stats, Store } from '../../src/store/store.js'
import { c2cSend, c2cWithdraw, decision, groupBefore, groupRecall, groupSend, record } from './helpers.js'

const NAMES = ['__proto__', 'constructor', 'toString', 'r1']

/** One record (the same arbitrary value gives the same body: a redelivery) or a rejection. */
const op = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), group: fc.constantFrom('g1', 'g2'), seq: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('recall' as const),
    group: fc.constantFrom('g1', 'g2'),
    seqs: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('c2c' as const), key: fc.constantFrom('1_1_1', '2_2_2') }),
  fc.record({ kind: fc.constant('withdraw' as const), key: fc.constantFrom('1_1_1', '2_2_2') }),
  fc.record({
    kind: fc.constant('before' as const),
    group: fc.constantFrom('g1', 'g2'),
    random: fc.integer({ min: 1001, max: 1004 }),
    verdict: fc.constantFrom('allow' as const, 'deny' as const, 'drop' as const),
    rule: fc.constantFrom(...NAMES),
  }),
  fc.record({ kind: fc.constant('other' as const), command: fc.constantFrom(...NAMES), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('rejection' as const), cause: fc.constantFrom(...NAMES) }),
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

function recordOf(o: Exclude<Op, { kind: 'rejection' }>): CallbackRecord {
  switch (o.kind) {
    case 'send':
      return record(groupSend(o.group, o.seq))
    case 'recall':
      return record(groupRecall(o.group, o.seqs))
    case 'c2c':
      return record(c2cSend(o.key))
    case 'withdraw':
      return record(c2cWithdraw(o.key))
    case 'before':
      return record(groupBefore(o.group, o.random), { decision: decision({ verdict: o.verdict, rule: o.rule }) })
    case 'other':
      return record({ CallbackCommand: o.command, N: o.n })
  }
}

describe('SQLite maintained counts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timhook-counts-'))
  const file = join(dir, 'counts.db')
  let store: Store
  const rejections = new Map<string, number>()
  before(async () => {
    store = await openStore(file)
  })
  after(async () => {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The stats as counting the tables gives them (rejections leave no row: counted by the test). */
  function scanned(): Stats {
    const db = openDatabase(file, { readOnly: true })
    try {
      const all = (text: string) => db.prepare(text).all() as Array<Record<string, unknown>>
      const byCommand = sql.tally(all(sql.STATS_BY_COMMAND))
      const m = all(sql.STATS_MESSAGES)[0]!
      return {
        events: { total: Object.values(byCommand).reduce((a, b) => a + b, 0), byCommand },
        decisions: { byVerdict: sql.tally(all(sql.STATS_BY_VERDICT)), byRule: sql.tally(all(sql.STATS_BY_RULE)) },
        rejections: { byCause: Object.fromEntries([...rejections].sort(([a], [b]) => (a < b ? -1 : 1))) },
        messages: {
          total: Number(m.total),
          recalled: Number(m.recalled),
          recallsAwaitingMessage: Number(all(sql.STATS_ORPHAN_RECALLS)[0]!.n),
        },
      }
    } finally {
      db.close()
    }
  }

  it('equal a count of the tables after any records, in any order and batches, redeliveries included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }), async (batches) => {
        for (const batch of batches) {
          // One batch: written together, so they share a commit (duplicates inside one commit too).
          await Promise.all(
            batch.map((o) => {
              if (o.kind !== 'rejection') return store.write(recordOf(o))
              rejections.set(o.cause, (rejections.get(o.cause) ?? 0) + 1)
              store.countRejection(o.cause)
              return store.flush()
            }),
          )
        }
        await store.flush()
        const stats = await store.stats()
        const truth = scanned()
        assert.deepEqual(stats, truth)
      }),
      { numRuns: 40 },
    )
  })

  it('count a command named __proto__ as its own entry', async () => {
    const before = (await store.stats()).events.byCommand
    const had = Object.hasOwn(before, '__proto__') ? before.__proto__! : 0
    await store.write(record({ CallbackCommand: '__proto__', Unique: Math.random() }))
    const after = (await store.stats()).events.byCommand
    assert.ok(Object.hasOwn(after, '__proto__'))
    assert.equal(after.__proto__, had + 1)
    assert.equal(JSON.parse(JSON.stringify(after)).__proto__, had + 1) // and it reaches the admin API's JSON
  })
})
