/**
 * A page shows every stored body safely, on both backends: parsed when it can be, else its text or
 * nothing with a note (TOO_DEEP, NOT_JSON, TOO_LARGE), reading at most INLINE_BODY_BYTES of each;
 * `readBody` serves a body whole in pieces.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { INLINE_BODY_BYTES } from '../../src/store/sql.js'
import { nestedText } from '../helpers/deep-bodies.js'
import { PG_SKIP, freshStore, groupSend, record } from './helpers.js'

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`stored bodies in pages (${kind})`, { skip: kind === 'postgres' && PG_SKIP }, () => {
    it('notes bodies too deep, not JSON or too large, and reads any body whole in pieces', async () => {
      const t = await freshStore(kind)
      try {
        const deep = nestedText(6000)
        const big = Buffer.from(JSON.stringify({ pad: 'ü'.repeat(INLINE_BODY_BYTES) }))
        await t.store.write(record({ CallbackCommand: 'Vendor.Deep' }, { rawBody: Buffer.from(deep) }))
        await t.store.write(record({ CallbackCommand: 'Vendor.Odd' }, { rawBody: Buffer.from('not json \u00e9') }))
        await t.store.write(record({ CallbackCommand: 'Vendor.Big' }, { rawBody: big }))
        const message = groupSend('g', 1, { CloudCustomData: 'x'.repeat(INLINE_BODY_BYTES) })
        await t.store.write(record(message))
        const page = await t.store.listEvents({ limit: 10 })
        assert.deepEqual(
          page.items.map((i) => [i.command, i.bodyNote?.reason, i.bodyNote?.size]),
          [
            ['Group.CallbackAfterSendMsg', 'TOO_LARGE', JSON.stringify(message).length],
            ['Vendor.Big', 'TOO_LARGE', big.length],
            ['Vendor.Odd', 'NOT_JSON', Buffer.byteLength('not json \u00e9')],
            ['Vendor.Deep', 'TOO_DEEP', deep.length],
          ],
        )
        assert.equal(page.items[2]!.body, 'not json \u00e9')
        assert.equal(page.items[3]!.body, deep)

        const id = Number(page.items[1]!.id)
        const pieces: Buffer[] = []
        for (let offset = 0; ;) {
          const piece = await t.store.readBody('event', id, offset, 1000)
          assert.ok(piece !== null && typeof piece.chunk !== 'string')
          assert.equal(piece.size, big.length)
          pieces.push(Buffer.from(piece.chunk))
          offset += piece.chunk.length
          if (offset >= piece.size) break
        }
        assert.ok(Buffer.concat(pieces).equals(big))
        assert.equal(await t.store.readBody('event', 999_999, 0, 10), null)

        const [m] = (await t.store.listMessages({ groupId: 'g', limit: 10 })).items
        assert.deepEqual([m!.GroupId, m!.MsgSeq, m!.body, m!.bodyNote?.reason], ['g', 1, null, 'TOO_LARGE'])
        const text = await t.store.readBody('message', Number(m!.id), 0, 10 * INLINE_BODY_BYTES)
        assert.deepEqual(JSON.parse(String(text!.chunk)), message)
      } finally {
        await t.cleanup()
      }
    })
  })
}
