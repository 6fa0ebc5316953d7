/**
 * Everything in ONE commit: PostgreSQL applies a batch with one statement per table, so a batch
 * holding duplicates, a recall before its message and a decision after its message must end as
 * if the records had been applied one by one. Run on both backends.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Store } from '../../src/store/store.js'
import {
  PG_SKIP,
  c2cSend,
  c2cWithdraw,
  decision,
  freshStore,
  groupBefore,
  groupRecall,
  groupSend,
  record,
  type TestStore,
} from './helpers.js'

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`one batch (${kind})`, { skip: kind === 'postgres' ? PG_SKIP : false }, () => {
    let t: TestStore
    let store: Store
    before(async () => {
      t = await freshStore(kind)
      store = t.store
    })
    after(async () => t?.cleanup())

    it('folds duplicates, links recalls and decisions whatever their order inside the batch; the first recall wins', async () => {
      const send = groupSend('@batch', 7)
      const dup = record(send)
      await Promise.all([
        store.write(record(groupRecall('@batch', [7], { Operator_Account: 'first', EventTime: 1_700_000_000_111 }))),
        store.write(dup),
        store.write(record(send, { rawBody: dup.rawBody })),
        store.write(record(groupRecall('@batch', [7], { Operator_Account: 'second', EventTime: 1_700_000_000_222 }))),
        store.write(record(c2cSend('5_6_7'))),
        store.write(
          record(c2cSend('5_6_7', 'alice', 'bob', 'C2C.CallbackBeforeSendMsg'), { decision: decision({ verdict: 'allow', rule: 'r1' }) }),
        ),
        store.write(record(c2cWithdraw('5_6_7'))),
        store.write(record(groupBefore('@batch', 1007), { decision: decision({ verdict: 'drop', rule: 'links' }) })),
      ])
      const { items } = await store.listMessages({ limit: 10 })
      assert.equal(items.length, 2)
      const group = items.find((m) => m.GroupId === '@batch')!
      assert.equal(group.recalledBy, 'first')
      assert.equal(group.recalledAt, new Date(1_700_000_000_111).toISOString())
      assert.deepEqual(
        [(group.decision as { verdict: string; rule: string }).verdict, (group.decision as { rule: string }).rule],
        ['drop', 'links'],
      )
      const c2c = items.find((m) => m.MsgKey === '5_6_7')!
      assert.equal(c2c.recalledBy, 'alice')
      assert.equal((c2c.decision as { rule: string }).rule, 'r1')
      const events = await store.listEvents({ command: 'Group.CallbackAfterSendMsg', limit: 10 })
      assert.equal(events.items.length, 1)
      assert.equal(events.items[0]!.deliveries, 2)
      const stats = await store.stats()
      assert.equal(stats.events.total, 6) // the second recall of MsgSeq 7 has the first's idempotency key: a redelivery
      assert.equal(stats.messages.recalled, 2)
    })

    it('links a decision only to a message stored before it: a later send reusing the Random (another MsgId) in the same batch keeps its own', async () => {
      store.enqueue(record(groupBefore('@reuse', 1050, { MsgId: 'tiny-1-1050' }), { decision: decision({ rule: 'first-send' }) }))
      store.enqueue(record(groupSend('@reuse', 52, { Random: 1050, MsgId: 'tiny-2-1050' })))
      await store.flush()
      await store.write(record(groupBefore('@reuse', 1050, { MsgId: 'tiny-2-1050' }), { decision: decision({ rule: 'second-send' }) }))
      const m = (await store.listMessages({ groupId: '@reuse', limit: 10 })).items[0]!
      assert.equal((m.decision as { rule: string } | null)?.rule, 'second-send')
    })

    it('links a decision to a message stored first whose send key holds a lone surrogate', async () => {
      const who = JSON.parse('"\\ud800x"') as string
      await store.write(record(groupSend('@surrogate', 7, { From_Account: who, Random: 1007 })))
      await store.write(record(groupBefore('@surrogate', 1007, { From_Account: who }), { decision: decision({ rule: 'r' }) }))
      const m = (await store.listMessages({ groupId: '@surrogate', limit: 10 })).items[0]!
      assert.equal((m.decision as { rule: string } | null)?.rule, 'r')
    })

    it('keeps event ids in arrival order inside a batch (newest first in listings)', async () => {
      const ids = [1, 2, 3, 4, 5].map((i) =>
        record({ CallbackCommand: 'State.StateChange', Info: { To_Account: `order${i}`, Action: 'Login' }, EventTime: i }),
      )
      await Promise.all(ids.map((r) => store.write(r)))
      const { items } = await store.listEvents({ command: 'State.StateChange', limit: 10 })
      assert.deepEqual(
        items.map((e) => e.requestId),
        ids.map((r) => r.requestId).reverse(),
      )
    })
  })
}
