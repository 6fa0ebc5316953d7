/**
 * Two different messages are two rows, whatever their ids contain: a `|` inside an id, ids that
 * differ only in a lone surrogate or U+0000 (which the drivers turn into U+FFFD), malformed
 * `MsgSeq` values. Both backends, the same rows.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PG_SKIP, freshStore, groupSend, record } from './helpers.js'

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`keys that look alike (${kind})`, { skip: kind === 'postgres' && PG_SKIP }, () => {
    it('stores both messages whose ids would join to the same text', async () => {
      const t = await freshStore(kind)
      try {
        await t.store.write(record(groupSend('a|', 7)))
        await t.store.write(record(groupSend('a', 7, { TopicId: '|' })))
        const events = await t.store.listEvents({ limit: 10 })
        assert.equal(events.items.length, 2, 'two events')
        assert.ok(
          events.items.every((e) => e.deliveries === 1),
          'neither is taken for a redelivery of the other',
        )
        assert.equal((await t.store.listMessages({ groupId: 'a|', limit: 10 })).items.length, 1)
        assert.equal((await t.store.listMessages({ groupId: 'a', topicId: '|', limit: 10 })).items.length, 1)
      } finally {
        await t.cleanup()
      }
    })

    it('stores ids that differ only in a lone surrogate or U+0000, and two different malformed MsgSeq', async () => {
      const t = await freshStore(kind)
      try {
        for (const g of ['\uD800', '\uDBFF', '\uFFFD', 'x\u0000', 'x\uFFFD']) await t.store.write(record(groupSend(g, 1)))
        await t.store.write(record(groupSend('g', 1, { MsgSeq: 1.5 })))
        await t.store.write(record(groupSend('g', 1, { MsgSeq: 'seven' })))
        const events = await t.store.listEvents({ limit: 20 })
        assert.equal(events.items.length, 7)
        assert.ok(events.items.every((e) => e.deliveries === 1))
        assert.equal(new Set(events.items.map((e) => e.idempotencyKey)).size, 7, 'seven keys, as stored')
        // A redelivery is still one event.
        await t.store.write(record(groupSend('\uD800', 1)))
        const again = await t.store.listEvents({ limit: 20 })
        assert.equal(again.items.length, 7)
        assert.equal(
          again.items.reduce((n, e) => n + e.deliveries, 0),
          8,
        )
      } finally {
        await t.cleanup()
      }
    })
  })
}
