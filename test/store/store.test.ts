/**
 * The one store suite, run against both backends: SQLite (a temp file) and PostgreSQL (a real
 * server at TIMHOOK_TEST_PG_URL, a schema of its own).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { StoreQueryError } from '../../src/store/store-query-error.js'
import type { Store } from '../../src/store/store.js'
import {
  PG_SKIP,
  allPages,
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
  describe(`store (${kind})`, { skip: kind === 'postgres' ? PG_SKIP : false }, () => {
    let t: TestStore
    let store: Store
    before(async () => {
      t = await freshStore(kind)
      store = t.store
    })
    after(async () => t?.cleanup())

    it('keeps every callback raw with command, SdkAppid, ClientIP, OptPlatform, received time and idempotency key', async () => {
      const body = { CallbackCommand: 'State.StateChange', Info: { To_Account: 'u1', Action: 'Login' }, EventTime: 1 }
      const raw = Buffer.from(`{ "CallbackCommand":"State.StateChange",  "Info":{"To_Account":"u1","Action":"Login"},"EventTime":1}`)
      await store.write(
        record(body, { rawBody: raw, clientIp: '192.0.2.7', optPlatform: 'iOS', receivedAt: 1_700_000_123_456, requestId: 'r-state' }),
      )
      const { items } = await store.listEvents({ command: 'State.StateChange', limit: 10 })
      assert.equal(items.length, 1)
      const e = items[0]!
      assert.equal(e.command, 'State.StateChange')
      assert.equal(e.sdkAppId, '1400000000')
      assert.equal(e.clientIp, '192.0.2.7')
      assert.equal(e.optPlatform, 'iOS')
      assert.equal(e.receivedAt, new Date(1_700_000_123_456).toISOString())
      assert.equal(e.requestId, 'r-state')
      assert.match(e.idempotencyKey, /^State\.StateChange\|sha256:[0-9a-f]{64}$/)
      assert.deepEqual(e.body, body)
      assert.equal(e.deliveries, 1)
    })

    it('stores a duplicate delivery once and counts the deliveries', async () => {
      const body = groupSend('dup-group', 1)
      await store.write(record(body))
      await store.write(record({ ...body }))
      await Promise.all([store.write(record({ ...body })), store.write(record({ ...body }))]) // duplicates in one batch too
      const events = await store.listEvents({ command: 'Group.CallbackAfterSendMsg', limit: 100 })
      const mine = events.items.filter((e) => (e.body as { GroupId: string }).GroupId === 'dup-group')
      assert.equal(mine.length, 1)
      assert.equal(mine[0]!.deliveries, 4)
      const messages = await store.listMessages({ groupId: 'dup-group', limit: 10 })
      assert.equal(messages.items.length, 1)
    })

    it('keeps group messages with their callback fields and marks them recalled (who, when)', async () => {
      await store.write(record(groupSend('g-recall', 5)))
      await store.write(record(groupSend('g-recall', 6)))
      let page = await store.listMessages({ groupId: 'g-recall', limit: 10 })
      assert.deepEqual(
        page.items.map((m) => [m.MsgSeq, m.recalledAt, m.recalledBy]),
        [
          [6, null, null],
          [5, null, null],
        ],
      )
      assert.equal(page.items[0]!.From_Account, 'alice')
      assert.deepEqual(page.items[0]!.MsgBody, [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'message 6' } }])
      await store.write(record(groupRecall('g-recall', [5])))
      page = await store.listMessages({ groupId: 'g-recall', limit: 10 })
      assert.deepEqual(
        page.items.map((m) => [m.MsgSeq, m.recalledAt, m.recalledBy]),
        [
          [6, null, null],
          [5, new Date(1_700_000_100_000).toISOString(), 'admin'],
        ],
      )
      assert.deepEqual(
        (await store.listMessages({ groupId: 'g-recall', recalled: true, limit: 10 })).items.map((m) => m.MsgSeq),
        [5],
      )
      assert.deepEqual(
        (await store.listMessages({ groupId: 'g-recall', recalled: false, limit: 10 })).items.map((m) => m.MsgSeq),
        [6],
      )
    })

    it('keys group messages by (GroupId, TopicId, MsgSeq): the same MsgSeq in two topics is two messages', async () => {
      await store.write(record(groupSend('g-topics', 1, { TopicId: 'topicA' })))
      await store.write(record(groupSend('g-topics', 1, { TopicId: 'topicB' })))
      await store.write(record(groupRecall('g-topics', [1], { TopicId: 'topicB' })))
      const all = await store.listMessages({ groupId: 'g-topics', limit: 10 })
      assert.equal(all.items.length, 2)
      const a = await store.listMessages({ groupId: 'g-topics', topicId: 'topicA', limit: 10 })
      const b = await store.listMessages({ groupId: 'g-topics', topicId: 'topicB', limit: 10 })
      assert.deepEqual([a.items[0]!.recalledAt, b.items[0]!.recalledBy], [null, 'admin'])
    })

    it('marks C2C messages withdrawn by MsgKey and filters by sender and receiver', async () => {
      await store.write(record(c2cSend('11_7_1700000000', 'carol', 'dave')))
      await store.write(record(c2cSend('12_7_1700000000', 'dave', 'carol')))
      await store.write(record(c2cWithdraw('11_7_1700000000', 'carol', 'dave')))
      const fromCarol = await store.listMessages({ from: 'carol', limit: 10 })
      assert.deepEqual(
        fromCarol.items.map((m) => [m.MsgKey, m.recalledBy, m.recalledAt]),
        [['11_7_1700000000', 'carol', new Date(1_700_000_200_000).toISOString()]],
      )
      const toCarol = await store.listMessages({ to: 'carol', limit: 10 })
      assert.deepEqual(
        toCarol.items.map((m) => [m.MsgKey, m.recalledAt]),
        [['12_7_1700000000', null]],
      )
    })

    it('keeps a recall that arrives before its message and links it when the message arrives', async () => {
      await store.write(record(groupRecall('g-early', [9])))
      await store.write(record(c2cWithdraw('99_1_1700000000', 'erin', 'frank')))
      assert.equal((await store.listMessages({ groupId: 'g-early', limit: 10 })).items.length, 0)
      const s1 = await store.stats()
      assert.ok(s1.messages.recallsAwaitingMessage >= 2)
      await store.write(record(groupSend('g-early', 9)))
      await store.write(record(c2cSend('99_1_1700000000', 'erin', 'frank')))
      const g = await store.listMessages({ groupId: 'g-early', limit: 10 })
      assert.deepEqual(
        g.items.map((m) => [m.MsgSeq, m.recalledBy]),
        [[9, 'admin']],
      )
      const c = await store.listMessages({ from: 'erin', limit: 10 })
      assert.deepEqual(
        c.items.map((m) => m.recalledBy),
        ['erin'],
      )
      assert.equal((await store.stats()).messages.recallsAwaitingMessage, s1.messages.recallsAwaitingMessage - 2)
    })

    it('attaches the before-send decision to the message, whichever is committed first', async () => {
      // Group: linked by (GroupId, TopicId, From_Account, Random), since a before-send has no MsgSeq yet.
      store.enqueue(
        record(groupBefore('g-dec', 1042), {
          decision: decision({ verdict: 'allow', rewritten: true, rule: 'mask-phones', action: 'mask' }),
        }),
      )
      await store.write(record(groupSend('g-dec', 42)))
      // C2C: linked by MsgKey; here the after-send is committed first.
      await store.write(record(c2cSend('5_5_1700000000', 'gina', 'hal')))
      store.enqueue(record(c2cSend('5_5_1700000000', 'gina', 'hal', 'C2C.CallbackBeforeSendMsg'), { decision: decision({ rule: 'ok' }) }))
      await store.flush()
      const g = (await store.listMessages({ groupId: 'g-dec', limit: 1 })).items[0]!
      assert.deepEqual(g.decision, decision({ verdict: 'allow', rewritten: true, rule: 'mask-phones', action: 'mask' }))
      const c = (await store.listMessages({ from: 'gina', limit: 1 })).items[0]!
      assert.equal((c.decision as { rule: string }).rule, 'ok')
      const before = await store.listEvents({ command: 'Group.CallbackBeforeSendMsg', limit: 10 })
      assert.equal(
        (before.items.find((e) => (e.body as { GroupId: string }).GroupId === 'g-dec')!.decision as { rule: string }).rule,
        'mask-phones',
      )
    })

    it('keeps a refusal in its event row only (a refused message has no after-send to link); a silent drop still links', async () => {
      store.enqueue(record(groupBefore('g-deny', 1043), { decision: decision({ verdict: 'deny', rule: 'spam', action: 'deny' }) }))
      store.enqueue(record(groupBefore('g-drop', 1044), { decision: decision({ verdict: 'drop', rule: 'links', action: 'drop' }) }))
      await store.flush()
      // Neither after-send is expected from Tencent for a refused message; one arriving anyway is stored unlinked.
      await store.write(record(groupSend('g-deny', 43)))
      await store.write(record(groupSend('g-drop', 44)))
      assert.equal((await store.listMessages({ groupId: 'g-deny', limit: 1 })).items[0]!.decision, null)
      assert.equal(((await store.listMessages({ groupId: 'g-drop', limit: 1 })).items[0]!.decision as { rule: string }).rule, 'links')
      const events = (await store.listEvents({ command: 'Group.CallbackBeforeSendMsg', limit: 50 })).items
      const denied = events.find((e) => (e.body as { GroupId: string }).GroupId === 'g-deny')!
      const kept = denied.decision as { verdict: string; rule: string }
      assert.deepEqual([kept.verdict, kept.rule], ['deny', 'spam'])
    })

    it('links with MsgId when both sends carry it, and without when only the after-send does', async () => {
      store.enqueue(record(groupBefore('g-msgid', 1050, { MsgId: 'tiny-1-1050' }), { decision: decision({ rule: 'with-id' }) }))
      store.enqueue(record(groupBefore('g-msgid', 1051), { decision: decision({ rule: 'bare' }) }))
      await store.flush()
      await store.write(record(groupSend('g-msgid', 50, { MsgId: 'tiny-1-1050' })))
      await store.write(record(groupSend('g-msgid', 51, { MsgId: 'tiny-1-1051' })))
      await store.write(record(groupSend('g-msgid', 52, { Random: 1050, MsgId: 'tiny-2-1050' }))) // another send reusing Random 1050
      const items = (await store.listMessages({ groupId: 'g-msgid', limit: 10 })).items
      assert.deepEqual(
        items.map((m) => (m.decision as { rule: string } | null)?.rule ?? null),
        [null, 'bare', 'with-id'],
      )
    })

    it("a message takes the decision as stored (the first delivery's), in either order: a refusal redelivered and allowed links nothing", async () => {
      store.enqueue(record(groupBefore('g-redo', 1060), { decision: decision({ verdict: 'deny', rule: 'too-fast', action: 'deny' }) }))
      await store.flush()
      await store.write(record(groupSend('g-redo', 60)))
      store.enqueue(record(groupBefore('g-redo', 1060), { decision: decision({ rule: 'later' }) }))
      await store.flush()
      store.enqueue(record(groupBefore('g-redo', 1061), { decision: decision({ verdict: 'deny', rule: 'too-fast', action: 'deny' }) }))
      store.enqueue(record(groupBefore('g-redo', 1061), { decision: decision({ rule: 'later' }) }))
      await store.flush()
      await store.write(record(groupSend('g-redo', 61)))
      const items = (await store.listMessages({ groupId: 'g-redo', limit: 10 })).items
      assert.deepEqual(
        items.map((m) => m.decision),
        [null, null],
      )
    })

    it('pages through messages and events with nextCursor, newest first, each item once', async () => {
      for (let i = 1; i <= 23; i++) await store.write(record(groupSend('g-pages', i)))
      const items = await allPages((cursor) => store.listMessages({ groupId: 'g-pages', limit: 5, cursor }))
      assert.deepEqual(
        items.map((m) => m.MsgSeq),
        Array.from({ length: 23 }, (_, i) => 23 - i),
      )
      const events = await allPages((cursor) => store.listEvents({ command: 'Group.CallbackAfterSendMsg', limit: 4, cursor }))
      assert.equal(new Set(events.map((e) => e.id)).size, events.length)
      const last = (await store.listMessages({ groupId: 'g-pages', limit: 23 })).nextCursor
      assert.equal(last, null)
    })

    it('filters events by time', async () => {
      const base = 1_800_000_000_000
      for (let i = 0; i < 5; i++)
        await store.write(record({ CallbackCommand: 'Sns.CallbackFriendAdd', N: i }, { receivedAt: base + i * 1000 }))
      const mid = await store.listEvents({ command: 'Sns.CallbackFriendAdd', since: base + 1000, until: base + 4000, limit: 10 })
      assert.deepEqual(
        mid.items.map((e) => (e.body as { N: number }).N),
        [3, 2, 1],
      )
    })

    it('refuses a cursor it did not make', async () => {
      await assert.rejects(store.listEvents({ limit: 1, cursor: 'bm9wZQ' }), StoreQueryError)
    })

    it('counts commands, decisions and rejections', async () => {
      store.enqueue(record(groupBefore('g-stats', 1), { decision: decision({ verdict: 'deny', rule: 'bad-words', action: 'deny' }) }))
      store.enqueue(record(groupBefore('g-stats', 2), { decision: decision({ verdict: 'drop', rule: 'flood', action: 'drop' }) }))
      store.countRejection('TIMHOOK_SIGN_MISMATCH')
      store.countRejection('TIMHOOK_SIGN_MISMATCH')
      store.countRejection('TIMHOOK_BODY_TOO_LARGE')
      await store.flush()
      const s = await store.stats()
      assert.equal(s.rejections.byCause.TIMHOOK_SIGN_MISMATCH, 2)
      assert.equal(s.rejections.byCause.TIMHOOK_BODY_TOO_LARGE, 1)
      assert.equal(s.decisions.byRule['bad-words'], 1)
      assert.equal(s.decisions.byRule.flood, 1)
      assert.ok(s.decisions.byVerdict.deny! >= 1 && s.decisions.byVerdict.drop! >= 1)
      const events = await store.listEvents({ limit: 10_000 })
      assert.equal(s.events.total, events.items.length)
      assert.equal(
        s.events.byCommand['Group.CallbackBeforeSendMsg'],
        events.items.filter((e) => e.command === 'Group.CallbackBeforeSendMsg').length,
      )
    })

    it('commits concurrent writes together (group commit) and they survive a reopen', async () => {
      const sizes: number[] = []
      store.onCommit((r) => sizes.push(r.size))
      await Promise.all(Array.from({ length: 40 }, (_, i) => store.write(record(groupSend('g-batch', i + 1)))))
      assert.ok(
        sizes.some((s) => s >= 40),
        `expected one batch holding all 40 writes, got batch sizes ${sizes.join(',')}`,
      )
      const reopened = await t.reopen()
      assert.equal((await reopened.listMessages({ groupId: 'g-batch', limit: 100 })).items.length, 40)
    })

    it('ends in the same state whatever order sends, recalls and duplicates arrive in (property)', async () => {
      let run = 0
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 6 }),
          fc.func(fc.boolean()),
          fc.array(fc.nat(), { maxLength: 30 }),
          async (seqs, recalledFn, order) => {
            const group = `prop-${kind}-${run++}`
            const recalled = seqs.filter((s) => recalledFn(s))
            const ops = [...seqs.map((s) => record(groupSend(group, s))), ...recalled.map((s) => record(groupRecall(group, [s])))]
            ops.push(...ops.slice(0, 2).map((r) => ({ ...r }))) // redeliveries
            for (const o of order) {
              const i = o % ops.length
              const j = (o * 7 + 3) % ops.length
              ;[ops[i], ops[j]] = [ops[j]!, ops[i]!]
            }
            // Half of them in one batch, the rest one by one.
            const half = Math.floor(ops.length / 2)
            await Promise.all(ops.slice(0, half).map((r) => store.write(r)))
            for (const r of ops.slice(half)) await store.write(r)
            const items = await allPages((cursor) => store.listMessages({ groupId: group, limit: 3, cursor }))
            assert.deepEqual(new Set(items.map((m) => m.MsgSeq)), new Set(seqs))
            assert.equal(items.length, seqs.length)
            for (const m of items) assert.equal(m.recalledBy !== null, recalled.includes(m.MsgSeq as number), `MsgSeq ${m.MsgSeq}`)
          },
        ),
        { numRuns: kind === 'sqlite' ? 60 : 25 },
      )
    })
  })
}
