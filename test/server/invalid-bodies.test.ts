/**
 * `timhook serve` with a policy, given bodies that miss their schema (default mode): nothing
 * crashes, the policy decides on what is there, and every body is stored with `valid: false`.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { RunningServer } from '../../src/server/start-server.js'
import { admin, groupAfterSend, groupBeforeSend, postCallback, startTestServer, tempDir } from './helpers.js'

describe('timhook serve: bodies that miss their schema', () => {
  const tmp = tempDir()
  let server: RunningServer
  before(async () => {
    writeFileSync(`${tmp.dir}/policy.yaml`, 'rules:\n  - name: spam\n    when: { keywords: { words: ["buy now"] } }\n    then: deny\n')
    server = await startTestServer({ db: `${tmp.dir}/i.db`, policy: `${tmp.dir}/policy.yaml` })
  })
  after(async () => {
    await server?.close()
    tmp.cleanup()
  })

  type Item = { valid: boolean; body: Record<string, unknown>; decision: Record<string, unknown> | null }
  const events = async (command: string) => (await admin(server.url, `/api/events?command=${command}`)).body.items as Item[]

  it('a before-send without MsgBody is allowed, with the reason recorded', async () => {
    const { MsgBody: _, ...noBody } = groupBeforeSend('inv', 1)
    const res = await postCallback(server.url, noBody)
    assert.deepEqual([res.status, res.answer.ErrorCode], [200, 0])
    await server.store.flush()
    const e = (await events('Group.CallbackBeforeSendMsg')).find((x) => x.body.Random === 1)!
    assert.equal(e.valid, false)
    assert.equal(e.decision?.verdict, 'allow')
    assert.match(String(e.decision?.reason), /no MsgBody/)
  })

  it('a before-send without GroupId is still judged by its text: denied by the rule, recorded invalid', async () => {
    const { GroupId: _, ...noGroup } = groupBeforeSend('inv', 2, 'buy now!')
    const res = await postCallback(server.url, noGroup)
    assert.deepEqual([res.status, res.answer.ErrorCode], [200, 1])
    await server.store.flush()
    const e = (await events('Group.CallbackBeforeSendMsg')).find((x) => x.body.Random === 2)!
    assert.equal(e.valid, false)
    assert.deepEqual([e.decision?.rule, e.decision?.verdict], ['spam', 'deny'])
  })

  it('an after-send without From_Account is acknowledged once stored, as invalid, with every field', async () => {
    const { From_Account: _, ...noSender } = groupAfterSend('inv', 9)
    const res = await postCallback(server.url, noSender)
    assert.deepEqual([res.status, res.answer.ActionStatus], [200, 'OK'])
    const stored = (await events('Group.CallbackAfterSendMsg')).filter((x) => x.body.GroupId === 'inv')
    assert.equal(stored.length, 1)
    assert.equal(stored[0]!.valid, false)
    assert.deepEqual(stored[0]!.body, noSender)
  })
})
