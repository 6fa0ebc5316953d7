/**
 * The README's library example runs as written: saved as example.mjs in the checkout, it imports
 * 'timhook' (the built package, through its own `exports`), listens, and answers callbacks.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { sign } from '../../src/protocol/signature.js'
import { freePort, start } from '../helpers/process.js'

const readme = readFileSync('README.md', 'utf8')
const example = /Save as `example\.mjs`[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1]
const file = '.tmp-readme-example.mjs'

describe('README example', { skip: !existsSync('dist/index.js') && 'dist/ is missing: run npm run build' }, () => {
  after(() => rmSync(file, { force: true }))

  it('the policy example runs as written: spam denied, a phone number masked', async () => {
    const block = /## Moderation without code[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1]
    assert.ok(block, 'the README has the policy example')
    const moduleFile = '.tmp-readme-policy.mjs'
    writeFileSync(moduleFile, block + '\nexport { receiver }\n')
    try {
      const { receiver } = (await import(`../../${moduleFile}`)) as { receiver: { handle: (r: object) => Promise<{ body: string }> } }
      const q = 'SdkAppid=1400000000&CallbackCommand=Group.CallbackBeforeSendMsg'
      const send = async (text: string) =>
        JSON.parse(
          (
            await receiver.handle({
              query: q,
              body: JSON.stringify({ GroupId: 'g', From_Account: 'a', MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] }),
            })
          ).body,
        ) as Record<string, unknown>
      assert.equal((await send('Buy Now! cheap')).ErrorCode, 1)
      assert.deepEqual((await send('call 13812345678')).MsgBody, [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'call ***********' } }])
      assert.deepEqual(await send('hello'), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    } finally {
      rmSync(moduleFile, { force: true })
    }
  })

  it('runs as written and answers allow, deny and a recall', async () => {
    assert.ok(example, 'the README has the example block')
    writeFileSync(file, example)
    const program = start(process.execPath, [file], {
      env: { ...process.env, PORT: String(await freePort()), TIM_CALLBACK_TOKEN: 'readme-token' },
    })
    try {
      const url = (await program.waitFor(/listening on (http:\/\/\S+)/))[1]!
      const t = Math.floor(Date.now() / 1000)
      const q = (command: string) =>
        `SdkAppid=1400000000&CallbackCommand=${command}&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI&Sign=${sign('readme-token', t)}&RequestTime=${t}`
      const send = async (command: string, body: object) =>
        (await fetch(`${url}/?${q(command)}`, { method: 'POST', body: JSON.stringify(body) })).json()
      const msg = (text: string) => ({
        GroupId: '@TGS#1',
        From_Account: 'a',
        Random: 1,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
      })
      assert.deepEqual(await send('Group.CallbackBeforeSendMsg', msg('hello')), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
      assert.deepEqual(await send('Group.CallbackBeforeSendMsg', msg('buy now!')), {
        ActionStatus: 'OK',
        ErrorCode: 10101,
        ErrorInfo: 'no ads here',
      })
      assert.deepEqual(await send('Group.CallbackAfterRecallMsg', { GroupId: '@TGS#1', MsgSeqList: [{ MsgSeq: 7 }] }), {
        ActionStatus: 'OK',
        ErrorCode: 0,
        ErrorInfo: '',
      })
      await program.waitFor(/recalled @TGS#1 \[ 7 \]/)
    } finally {
      await program.stop()
    }
  })
})
