/**
 * `/api/stats` on both backends: counts maintained in the same transaction as the rows, with the
 * same semantics — per command, per verdict, per rule (a redelivery counts once),
 * rejections per cause, messages stored / recalled / recalls awaiting their message — and any
 * command name counted, `__proto__` included.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Store } from '../../src/store/store.js'
import { PG_SKIP, decision, freshStore, groupBefore, groupRecall, groupSend, record, type TestStore } from './helpers.js'

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`stats maintained (${kind})`, { skip: kind === 'postgres' ? PG_SKIP : false }, () => {
    let t: TestStore
    let store: Store
    before(async () => {
      t = await freshStore(kind)
      store = t.store
    })
    after(async () => t?.cleanup())

    it('counts each callback once however often delivered, any command name, and the message states', async () => {
      const proto = record({ CallbackCommand: '__proto__', X: 1 }, { command: '__proto__' })
      await store.write(proto)
      await store.write(record({ CallbackCommand: '__proto__', X: 1 }, { command: '__proto__', rawBody: proto.rawBody }))
      await store.write(record({ CallbackCommand: 'constructor', X: 2 }, { command: 'constructor' }))
      const deny = () => record(groupBefore('st', 1), { decision: decision({ verdict: 'deny', rule: 'spam' }) })
      await Promise.all([store.write(deny()), store.write(deny())])
      await store.write(deny())
      await store.write(record(groupSend('st', 1)))
      await store.write(record(groupSend('st', 1)))
      await store.write(record(groupRecall('st', [1])))
      await store.write(record(groupRecall('st', [2])))
      await store.write(record(groupRecall('st', [2])))
      store.countRejection('TIMHOOK_SIGN_MISMATCH')
      store.countRejection('__proto__')
      await store.flush()
      const s = await store.stats()
      // Expected as JSON: an object literal's `__proto__:` would set the prototype, not a key.
      const expected: unknown = JSON.parse(`{
        "events": { "total": 6, "byCommand": { "__proto__": 1, "constructor": 1, "Group.CallbackBeforeSendMsg": 1, "Group.CallbackAfterSendMsg": 1, "Group.CallbackAfterRecallMsg": 2 } },
        "decisions": { "byVerdict": { "deny": 1 }, "byRule": { "spam": 1 } },
        "rejections": { "byCause": { "TIMHOOK_SIGN_MISMATCH": 1, "__proto__": 1 } },
        "messages": { "total": 1, "recalled": 1, "recallsAwaitingMessage": 1 }
      }`)
      assert.deepEqual(JSON.parse(JSON.stringify(s)), expected)
      assert.equal(Object.getPrototypeOf(s.events.byCommand), Object.prototype, 'a plain object whose own key is "__proto__"')
      // The message the waiting recall was for arrives: it is stored recalled, and no longer waiting.
      await store.write(record(groupSend('st', 2)))
      const m = (await store.stats()).messages
      assert.deepEqual(m, { total: 2, recalled: 2, recallsAwaitingMessage: 0 })
    })
  })
}
