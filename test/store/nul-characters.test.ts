/**
 * U+0000 in a query parameter or body string (ClientIP=%00, "From_Account": "a\u0000") must not
 * poison the store: PostgreSQL refuses NUL in text, and a refused before-send record would be
 * retried with every later batch, failing all of them. Both backends, the same result.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PG_SKIP, freshStore, groupBefore, groupSend, record } from './helpers.js'

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`NUL characters (${kind})`, { skip: kind === 'postgres' && PG_SKIP }, () => {
    it('a before-send record with NUL characters commits, and the writes after it commit too', async () => {
      const t = await freshStore(kind)
      try {
        t.store.enqueue(record(groupBefore('g\u0000x', 7, { From_Account: 'eve\u0000' }), { clientIp: '\u0000' }))
        await t.store.write(record(groupSend('g\u0000x', 1, { From_Account: 'eve\u0000' })))
        await t.store.write(record(groupSend('g2', 1)))
        const page = await t.store.listMessages({ groupId: 'g2', limit: 10 })
        assert.equal(page.items.length, 1)
        const events = await t.store.listEvents({ limit: 10 })
        assert.equal(events.items.length, 3, 'all three callbacks are in the event log')
      } finally {
        await t.cleanup()
      }
    })
  })
}
