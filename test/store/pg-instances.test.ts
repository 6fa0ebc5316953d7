/**
 * Several stores over one PostgreSQL schema (what several `timhook serve` instances are), against
 * the real server: a message, its recall and its before-send — and redeliveries of each — end
 * linked whatever the interleaving of their transactions, and the stats and listings tell the
 * truth at every moment, including while one transaction is held open.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import pg from 'pg'
import { openStore } from '../../src/store/open-store.js'
import type { WriteRow } from '../../src/store/records.js'
import type { Stats, Store } from '../../src/store/store.js'
import { PG_SKIP, PG_URL, decision, dropSchema, groupBefore, groupRecall, groupSend, record } from './helpers.js'

type Kind = 'message' | 'recall' | 'before'
const KINDS: Kind[] = ['message', 'recall', 'before']

const recordOf = (kind: Kind, group: string) =>
  kind === 'message'
    ? record(groupSend(group, 1, { Random: 4242 }))
    : kind === 'recall'
      ? record(groupRecall(group, [1]))
      : record(groupBefore(group, 4242), { decision: decision({ rule: `rule-${group}` }) })

/** A store whose commits can be held open (inside their transaction, before COMMIT) on demand. */
interface Instance {
  store: Store
  name: string
  /** Holds the next commit open: resolves once it is held; `release()` lets it commit. */
  holdNext(): { held: Promise<void>; release: () => void }
}

async function openInstance(schema: string, name: string): Promise<Instance> {
  let hold: { onHeld: () => void; wait: Promise<void> } | undefined
  const store = await openStore(`${PG_URL}?application_name=${name}`, {
    schema,
    retryDelayMs: 5,
    beforeCommit: async (rows: WriteRow[]) => {
      if (rows.length === 0) return
      const h = hold
      if (h !== undefined) {
        hold = undefined
        h.onHeld()
        await h.wait
      }
    },
  })
  return {
    store,
    name,
    holdNext() {
      let onHeld!: () => void
      let release!: () => void
      const held = new Promise<void>((resolve) => (onHeld = resolve))
      const wait = new Promise<void>((resolve) => (release = resolve))
      hold = { onHeld, wait }
      return { held, release }
    },
  }
}

/** Resolves once a connection of `app` waits for a lock held by another transaction (or once `stop()`). */
async function waitsForLock(admin: pg.Client, app: string, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const { rows } = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app])
    if (rows.length > 0) return
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** What the stats and listing must show for one message's group, given which of its callbacks are committed. */
async function expectVisible(store: Store, group: string, committed: Set<Kind>, base: Stats): Promise<void> {
  const items = (await store.listMessages({ groupId: group, limit: 10 })).items
  const stats = await store.stats()
  const hasMessage = committed.has('message')
  assert.equal(items.length, hasMessage ? 1 : 0, `messages listed with ${[...committed].join('+') || 'nothing'} committed`)
  if (hasMessage) {
    assert.equal(items[0]!.recalledBy !== null, committed.has('recall'), 'recalled')
    assert.equal(
      (items[0]!.decision as { rule?: string } | null)?.rule ?? null,
      committed.has('before') ? `rule-${group}` : null,
      'decision',
    )
  }
  assert.equal(stats.messages.total - base.messages.total, hasMessage ? 1 : 0, 'messages.total')
  assert.equal(stats.messages.recalled - base.messages.recalled, hasMessage && committed.has('recall') ? 1 : 0, 'messages.recalled')
  assert.equal(
    stats.messages.recallsAwaitingMessage - base.messages.recallsAwaitingMessage,
    !hasMessage && committed.has('recall') ? 1 : 0,
    'recallsAwaitingMessage',
  )
  const recalled = (await store.listMessages({ groupId: group, recalled: true, limit: 10 })).items.length
  assert.equal(recalled, hasMessage && committed.has('recall') ? 1 : 0, 'listed as recalled')
}

describe('several stores over one PostgreSQL schema', { skip: PG_SKIP }, () => {
  const schema = `inst_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  let a: Instance
  let b: Instance
  let c: Instance
  let admin: pg.Client
  before(async () => {
    // Three stores opening at once migrate the schema once.
    ;[a, b, c] = await Promise.all([
      openInstance(schema, `${schema}_a`),
      openInstance(schema, `${schema}_b`),
      openInstance(schema, `${schema}_c`),
    ])
    admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
  })
  after(async () => {
    await Promise.all([a?.store.close(), b?.store.close(), c?.store.close()])
    await admin?.end()
    await dropSchema(schema)
  })

  // Every ordered pair (duplicates included): the first held open inside its transaction while the
  // second runs (it commits, or waits for the first's row lock), then the third arrives elsewhere.
  for (const first of KINDS) {
    for (const second of KINDS) {
      it(`${first} held open on one instance while a ${second} arrives on another`, async () => {
        const group = `pair-${first}-${second}`
        const base = await c.store.stats()
        const { held, release } = a.holdNext()
        const one = a.store.write(recordOf(first, group))
        await held
        let secondDone = false
        const two = b.store.write(recordOf(second, group)).then(() => void (secondDone = true))
        // The second either commits without waiting for the first, or waits for its row lock.
        await Promise.race([two, waitsForLock(admin, b.name, () => secondDone)])
        const committed = new Set<Kind>(secondDone ? [second] : [])
        await expectVisible(c.store, group, committed, base)
        release()
        await Promise.all([one, two])
        committed.add(first).add(second)
        await expectVisible(c.store, group, committed, base)
        const third = KINDS.find((k) => !committed.has(k))
        if (third !== undefined) {
          await c.store.write(recordOf(third, group))
          committed.add(third)
        }
        await expectVisible(a.store, group, committed, base)
        const events = (await c.store.stats()).events.total - base.events.total
        assert.equal(events, committed.size, 'each callback is one event, a redelivery counts once')
      })
    }
  }

  it('ends linked whatever the order and the instances of sends, recalls, before-sends and redeliveries (property)', async () => {
    let run = 0
    const op = fc.record({
      kind: fc.constantFrom<Kind>(...KINDS),
      msg: fc.nat({ max: 2 }),
      instance: fc.nat({ max: 2 }),
      jitter: fc.nat({ max: 3 }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        const prefix = `prop-${run++}`
        const base = await a.store.stats()
        const instances = [a, b, c]
        const groups = [0, 1, 2].map((i) => `${prefix}-${i}`)
        // All at once: each instance batches what arrives together, and its batches and the other instances' run concurrently.
        await Promise.all(
          ops.map(async (o) => {
            for (let i = 0; i < o.jitter; i++) await new Promise((resolve) => setImmediate(resolve))
            await instances[o.instance]!.store.write(recordOf(o.kind, groups[o.msg]!))
          }),
        )
        const totals = { messages: 0, recalled: 0, awaiting: 0 }
        for (let i = 0; i < 3; i++) {
          const kinds = new Set(ops.filter((o) => o.msg === i).map((o) => o.kind))
          const items = (await c.store.listMessages({ groupId: groups[i]!, limit: 10 })).items
          assert.equal(items.length, kinds.has('message') ? 1 : 0)
          if (kinds.has('message')) {
            totals.messages++
            if (kinds.has('recall')) totals.recalled++
            assert.equal(items[0]!.recalledBy !== null, kinds.has('recall'), `recall of ${groups[i]} linked`)
            assert.equal(
              (items[0]!.decision as { rule?: string } | null)?.rule ?? null,
              kinds.has('before') ? `rule-${groups[i]}` : null,
              `decision of ${groups[i]} linked`,
            )
          } else if (kinds.has('recall')) totals.awaiting++
        }
        const stats = await b.store.stats()
        assert.deepEqual(
          [
            stats.messages.total - base.messages.total,
            stats.messages.recalled - base.messages.recalled,
            stats.messages.recallsAwaitingMessage - base.messages.recallsAwaitingMessage,
          ],
          [totals.messages, totals.recalled, totals.awaiting],
        )
        const distinct = new Set(ops.map((o) => `${o.kind}|${o.msg}`)).size
        assert.equal(stats.events.total - base.events.total, distinct, 'events counted once each, however often delivered')
      }),
      { numRuns: 40 },
    )
  })
})
