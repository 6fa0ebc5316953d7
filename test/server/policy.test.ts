/** `--policy`: the rules file decides before-sends; decisions are recorded, counted, served, reloaded. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { createReceiver } from '../../src/receiver/index.js'
import { attachPolicy } from '../../src/server/attach-policy.js'
import { ConfigError } from '../../src/server/config.js'
import { createLogger } from '../../src/server/logger.js'
import type { ServerMetrics } from '../../src/server/metrics.js'
import type { RunningServer } from '../../src/server/start-server.js'
import { ADMIN, admin, APP, groupAfterSend, groupBeforeSend, postCallback, startTestServer, tempDir } from './helpers.js'

const RULES = `
rules:
  - name: spam
    when: { keywords: { words: ["buy now"] } }
    then: deny
  - name: flood
    scope: { commands: [group] }
    when: { rate: { per: sender, max: 2, window: 60s } }
    then: { deny: { code: 10101, info: "slow down" } }
  - name: phones
    when: { regex: { pattern: "1[3-9]\\\\d{9}" } }
    then: { mask: "*" }
`

describe('timhook serve --policy', () => {
  const tmp = tempDir()
  const file = `${tmp.dir}/policy.yaml`
  let server: RunningServer
  before(async () => {
    writeFileSync(file, RULES)
    server = await startTestServer({ db: `${tmp.dir}/p.db`, policy: file })
  })
  after(async () => {
    await server?.close()
    tmp.cleanup()
  })

  it('denies by rule and records rule, action and reason with the event', async () => {
    const res = await postCallback(server.url, { ...groupBeforeSend('pg', 1, 'please buy now'), From_Account: 'spammer' })
    assert.deepEqual([res.status, res.answer.ErrorCode], [200, 1])
    await server.store.flush()
    const events = (await admin(server.url, '/api/events?command=Group.CallbackBeforeSendMsg')).body.items as Array<{
      decision: Record<string, unknown>
    }>
    assert.equal(events[0]!.decision.rule, 'spam')
    assert.equal(events[0]!.decision.action, 'deny')
    assert.equal(events[0]!.decision.verdict, 'deny')
    assert.match(String(events[0]!.decision.reason), /buy now/)
  })

  it('attaches the decision of a rewritten message to the message from its after-send', async () => {
    const res = await postCallback(server.url, { ...groupBeforeSend('pg', 77, 'call 13812345678'), From_Account: 'masker' })
    assert.equal(res.answer.ErrorCode, 0)
    assert.ok(Array.isArray(res.answer.MsgBody), 'the masked body is sent back')
    await postCallback(server.url, { ...groupAfterSend('pg', 5, 'call ***********'), From_Account: 'masker', Random: 77 })
    await server.store.flush()
    const m = ((await admin(server.url, '/api/messages?groupId=pg')).body.items as Array<Record<string, unknown>>)[0]!
    const decision = m.decision as Record<string, unknown>
    assert.deepEqual([decision.rule, decision.action, decision.rewritten], ['phones', 'mask', true])
  })

  it('answers a redelivered before-send the same, even when a rate limit would now deny it', async () => {
    const sends = [1, 2, 2, 2].map((r) => ({ ...groupBeforeSend('rate', 900 + r), From_Account: 'fast' }))
    const codes = []
    for (const s of sends) codes.push((await postCallback(server.url, s)).answer.ErrorCode)
    assert.deepEqual(codes, [0, 0, 0, 0])
    const third = await postCallback(server.url, { ...groupBeforeSend('rate', 903), From_Account: 'fast' })
    assert.deepEqual([third.answer.ErrorCode, third.answer.ErrorInfo], [10101, 'slow down'])
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
    assert.match(metrics, /timhook_decisions_total\{rule="flood",action="deny",verdict="deny"\} 1/)
    await server.store.flush()
    const stats = (await admin(server.url, '/api/stats')).body as { decisions: { byRule: Record<string, number> } }
    assert.equal(stats.decisions.byRule.flood, 1)
  })

  it('reloads the file on demand; a broken file keeps the previous rules in force', async () => {
    writeFileSync(file, `rules:\n  - name: no-hello\n    when: { keywords: { words: [hello] } }\n    then: drop\n`)
    server.reloadPolicy()
    const dropped = await postCallback(server.url, { ...groupBeforeSend('reload', 1, 'hello there'), From_Account: 'r1' })
    assert.equal(dropped.answer.ErrorCode, 2)
    writeFileSync(file, `rules:\n  - name: broken\n    then: explode\n`)
    server.reloadPolicy()
    const still = await postCallback(server.url, { ...groupBeforeSend('reload', 2, 'hello again'), From_Account: 'r2' })
    assert.equal(still.answer.ErrorCode, 2)
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
    assert.match(metrics, /timhook_policy_reloads_total\{result="error"\} [1-9]/)
  })

  it('refuses to start with an invalid rules file, naming the rule', async () => {
    const bad = `${tmp.dir}/bad.yaml`
    writeFileSync(bad, `rules:\n  - name: oops\n    when: { keywords: { words: [] } }\n    then: deny\n`)
    await assert.rejects(
      startTestServer({ db: `${tmp.dir}/bad.db`, policy: bad }),
      (err: unknown) => err instanceof ConfigError && /oops|rules\[0\]/.test(err.message),
    )
  })
})

describe('attachPolicy: redeliveries', () => {
  it('answers a redelivered before-send the same: a rate limit counts each message once', async () => {
    const tmp = tempDir()
    try {
      const file = `${tmp.dir}/rate.yaml`
      writeFileSync(
        file,
        `rules:\n  - name: flood\n    scope: { commands: [group, c2c] }\n    when: { rate: { per: sender, max: 1, window: 60s } }\n    then: { deny: { code: { group: 10101, c2c: 120101 }, info: "slow down" } }\n`,
      )
      const receiver = createReceiver({ sdkAppId: APP })
      const metrics = { policyReloads: { inc: () => undefined } } as unknown as ServerMetrics
      const policy = attachPolicy(receiver, file, { metrics, logger: createLogger('silent') })
      try {
        const answer = async (command: string, body: Record<string, unknown>) => {
          const res = await receiver.handle({ query: `SdkAppid=${APP}&CallbackCommand=${command}`, body: JSON.stringify(body) })
          return (JSON.parse(res.body) as { ErrorCode: number }).ErrorCode
        }
        const group = (random: number) => answer('Group.CallbackBeforeSendMsg', groupBeforeSend('g', random))
        const c2c = (msgKey: string) =>
          answer('C2C.CallbackBeforeSendMsg', {
            CallbackCommand: 'C2C.CallbackBeforeSendMsg',
            From_Account: 'carol',
            To_Account: 'dave',
            MsgKey: msgKey,
            MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
          })
        assert.equal(await group(1), 0, 'first message: allowed')
        assert.equal(await group(1), 0, 'its redelivery: allowed again, and not counted')
        assert.equal(await group(2), 10101, 'a second message: over the rate')
        assert.equal(await group(2), 10101, 'its redelivery: refused again')
        assert.equal(await group(1), 0, 'the first message, a third time: still allowed')
        assert.equal(await c2c('1_1_1'), 0)
        assert.equal(await c2c('1_1_1'), 0, 'a one-to-one redelivery (same MsgKey) counts once too')
        assert.equal(await c2c('2_2_2'), 120101)
      } finally {
        policy.close()
      }
    } finally {
      tmp.cleanup()
    }
  })
})

describe('an empty policy, reloaded to rules and back while before-sends arrive', () => {
  it('records, counts and serves every decision as the policy in force decided it', async () => {
    const tmp = tempDir()
    const file = `${tmp.dir}/policy.yaml`
    writeFileSync(file, 'rules: []\n')
    const server = await startTestServer({ db: `${tmp.dir}/live.db`, policy: file })
    try {
      // Traffic: four senders in a loop until stopped, every message with the word the rules refuse.
      const answers = new Map<number, number>() // Random → ErrorCode
      let next = 1
      let stop = false
      const waiters: Array<{ ok: () => boolean; resolve: () => void }> = []
      const seen = (ok: () => boolean) =>
        new Promise<void>((resolve) => {
          if (ok()) resolve()
          else waiters.push({ ok, resolve })
        })
      const sender = async () => {
        while (!stop) {
          const random = next++
          const res = await postCallback(server.url, {
            ...groupBeforeSend('live', random, `blocked ${random}`),
            From_Account: `u${random}`,
          })
          assert.equal(res.status, 200)
          answers.set(random, res.answer.ErrorCode as number)
          for (const w of waiters.splice(0))
            if (w.ok()) w.resolve()
            else waiters.push(w)
        }
      }
      const count = (code: number, from = 0) => [...answers].filter(([r, c]) => r > from && c === code).length
      const traffic = Promise.all([sender(), sender(), sender(), sender()])

      await seen(() => count(0) >= 5) // empty: allowed, no rule matched
      writeFileSync(file, 'rules:\n  - name: blocker\n    when: { keywords: { words: [blocked] } }\n    then: deny\n')
      server.reloadPolicy()
      const reloaded = next
      await seen(() => count(1, reloaded) >= 5) // the rule refuses them
      writeFileSync(file, 'rules: []\n')
      server.reloadPolicy()
      const emptied = next
      await seen(() => count(0, emptied) >= 5) // empty again
      stop = true
      await traffic
      await server.store.flush()

      const allowed = count(0)
      const denied = count(1)
      assert.equal(allowed + denied, answers.size, 'every answer is an allow or the rule’s deny')
      const events: Array<{ body: { Random: number }; decision: Record<string, unknown> }> = []
      for (let cursor: string | null | undefined; ;) {
        const page = (
          await admin(server.url, `/api/events?command=Group.CallbackBeforeSendMsg&limit=500${cursor ? `&cursor=${cursor}` : ''}`)
        ).body
        events.push(...(page.items as typeof events))
        cursor = page.nextCursor as string | null
        if (cursor === null) break
      }
      assert.equal(events.length, answers.size)
      const noMatch = {
        verdict: 'allow',
        rewritten: false,
        code: null,
        fallback: false,
        rule: null,
        action: 'allow',
        reason: 'no rule matched',
        dryRun: false,
      }
      for (const e of events) {
        if (answers.get(e.body.Random) === 0) assert.deepEqual(e.decision, noMatch, `message ${e.body.Random}`)
        else
          assert.deepEqual(
            [e.decision.rule, e.decision.action, e.decision.verdict],
            ['blocker', 'deny', 'deny'],
            `message ${e.body.Random}`,
          )
      }
      // An allowed message's after-send takes its no-match decision.
      const allowedRandom = [...answers].find(([, c]) => c === 0)![0]
      await postCallback(server.url, {
        ...groupAfterSend('live', 1, `blocked ${allowedRandom}`),
        From_Account: `u${allowedRandom}`,
        Random: allowedRandom,
      })
      await server.store.flush()
      const message = ((await admin(server.url, '/api/messages?groupId=live')).body.items as Array<Record<string, unknown>>)[0]!
      assert.deepEqual(message.decision, noMatch)

      const stats = (await admin(server.url, '/api/stats')).body as {
        decisions: { byVerdict: Record<string, number>; byRule: Record<string, number> }
      }
      assert.deepEqual(stats.decisions.byVerdict, { allow: allowed, deny: denied })
      assert.deepEqual(stats.decisions.byRule, { blocker: denied })
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
      assert.match(metrics, new RegExp(`timhook_decisions_total\\{rule="none",action="allow",verdict="allow"\\} ${allowed}\\n`))
      assert.match(metrics, new RegExp(`timhook_decisions_total\\{rule="blocker",action="deny",verdict="deny"\\} ${denied}\\n`))
    } finally {
      await server.close()
      tmp.cleanup()
    }
  })
})
