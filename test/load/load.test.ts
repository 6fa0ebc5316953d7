import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runLoad } from '../../src/load/run-load.js'
import { LatencySample } from '../../src/load/latency-sample.js'
import { parseDuration, parseMix } from '../../src/load/load-options.js'
import { verdict } from '../../src/protocol/verdict.js'
import type { TimhookError } from '../../src/protocol/errors.js'
import { toNodeHandler } from '../../src/adapters/node.js'
import { createReceiver } from '../../src/receiver/index.js'
import { listen } from '../helpers/http.js'
import { APP } from '../emulator/helpers.js'

describe('load generator', () => {
  it('drives a consistent, signed mix that our receiver accepts: MsgSeq contiguous per group, recalls and withdraws of sent messages', async () => {
    const receiver = createReceiver({ sdkAppId: APP, token: 'load-token' })
    const errors: TimhookError[] = []
    const invalid: string[] = []
    const seqs = new Map<string, number[]>()
    const recalled: Array<[string, number]> = []
    const c2cKeys = new Set<string>()
    const withdrawn: string[] = []
    let groupBefore = 0
    let denied = 0
    receiver.on('Group.CallbackBeforeSendMsg', (e) => {
      groupBefore++
      const text = (e.MsgBody[0]?.MsgContent as { Text?: string }).Text
      if (text === 'lol') {
        denied++
        return verdict.deny()
      }
      return verdict.allow()
    })
    receiver.on('Group.CallbackAfterSendMsg', (e) => {
      const key = `${e.GroupId}|${e.TopicId ?? ''}`
      seqs.set(key, [...(seqs.get(key) ?? []), e.MsgSeq ?? -1])
      assert.notEqual((e.MsgBody[0]?.MsgContent as { Text?: string }).Text, 'lol', 'a denied message has no after-send')
    })
    receiver.on('Group.CallbackAfterRecallMsg', (e) => {
      for (const m of e.MsgSeqList) recalled.push([`${e.GroupId}|${e.TopicId ?? ''}`, m.MsgSeq])
    })
    receiver.on('C2C.CallbackAfterSendMsg', (e) => void c2cKeys.add(e.MsgKey ?? 'no MsgKey'))
    receiver.on('C2C.CallbackAfterMsgWithDraw', (e) => void withdrawn.push(e.MsgKey))
    receiver.onAny((_e, ctx) => void (ctx.valid || invalid.push(`${ctx.command}: ${ctx.problem}`)))
    receiver.onError((err) => void errors.push(err))
    const server = await listen(toNodeHandler(receiver))
    try {
      const report = await runLoad({
        target: `${server.url}/im`,
        sdkAppId: APP,
        token: 'load-token',
        rate: 600,
        durationMs: 1000,
        groups: 5,
        users: 10,
        timeoutMs: 10_000,
        mix: { group: 50, c2c: 30, recall: 10, withdraw: 10 },
      })
      // A generous callback timeout above: on a starved CI machine a late answer would count as "timeout", not "allow".
      assert.deepEqual(errors, [])
      assert.deepEqual(invalid, [])
      assert.equal(report.completed, report.sent)
      assert.ok(report.sent > 0)
      assert.equal(
        Object.values(report.outcomes).reduce((a, b) => a + b, 0),
        report.completed,
      )
      assert.equal(report.latencyMs.count, report.completed)
      assert.equal(report.byCommand['Group.CallbackBeforeSendMsg']?.deny ?? 0, denied)
      assert.equal(report.byCommand['Group.CallbackBeforeSendMsg']?.allow, groupBefore - denied)
      for (const [group, list] of seqs) {
        assert.deepEqual(
          [...list].sort((a, b) => a - b),
          list.map((_, i) => i + 1),
          `MsgSeq of ${group} runs 1, 2, 3, …`,
        )
      }
      const recalledKeys = recalled.map(([g, s]) => `${g}#${s}`)
      assert.equal(new Set(recalledKeys).size, recalledKeys.length, 'each message is recalled at most once')
      for (const [group, seq] of recalled) assert.ok(seqs.get(group)?.includes(seq), `recalled ${group} ${seq} was sent`)
      assert.equal(new Set(withdrawn).size, withdrawn.length, 'each message is withdrawn at most once')
      for (const key of withdrawn) assert.ok(c2cKeys.has(key), `withdrawn ${key} was sent`)
    } finally {
      await server.close()
    }
  })

  it('counts failures by kind: a rejecting target shows http-401 for every callback', async () => {
    const receiver = createReceiver({ sdkAppId: APP, token: 'right' })
    const server = await listen(toNodeHandler(receiver))
    try {
      const report = await runLoad({ target: `${server.url}/im`, sdkAppId: APP, token: 'wrong', rate: 100, durationMs: 300 })
      assert.deepEqual(Object.keys(report.outcomes), ['http-401'])
      assert.equal(report.outcomes['http-401'], report.completed)
    } finally {
      await server.close()
    }
  })

  it('refuses a bad target, rate or duration', async () => {
    await assert.rejects(runLoad({ target: 'not a url', rate: 1, durationMs: 1 }), /invalid target/)
    await assert.rejects(runLoad({ target: 'http://127.0.0.1:1/im', rate: 0, durationMs: 1 }), /invalid rate/)
  })
})

describe('load options and percentiles', () => {
  it('parses durations and mixes, naming the problem', () => {
    assert.equal(parseDuration('30s'), 30_000)
    assert.equal(parseDuration('2m'), 120_000)
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('3'), 3000)
    assert.throws(() => parseDuration('soon'), /invalid duration/)
    assert.deepEqual(parseMix('group=1,recall=2'), { group: 1, c2c: 0, recall: 2, withdraw: 0 })
    assert.throws(() => parseMix('groups=1'), /operations are group, c2c, recall, withdraw/)
    assert.throws(() => parseMix('recall=5'), /needs a positive weight/)
  })

  it('nearest-rank percentiles over every sample', () => {
    const s = new LatencySample()
    for (let i = 2000; i >= 1; i--) s.record(i)
    const sum = s.summary()
    assert.deepEqual([sum.count, sum.p50, sum.p90, sum.p99, sum.max, sum.mean], [2000, 1000, 1800, 1980, 2000, 1000.5])
    assert.deepEqual(new LatencySample().summary().count, 0)
  })
})
