/** Each condition and action of a policy, through createPolicy().decide(). */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { answerFor } from '../../src/protocol/verdict.js'
import { createPolicy, type DeciderContext, type RuleConfig } from '../../src/policy/index.js'
import { c2cEvent, groupEvent, text } from './helpers.js'

const one = (rule: Omit<RuleConfig, 'name'>, extra: Record<string, unknown> = {}) =>
  createPolicy({ rules: [{ name: 'r', ...rule }], ...extra })
const G = 'Group.CallbackBeforeSendMsg'

describe('keywords', () => {
  const policy = one({ when: { keywords: ['buy now', '免费领取', 'VX'] }, then: 'deny' })

  it('deny: CJK and Latin, folded for case and width; the decision names rule and keyword', () => {
    for (const t of ['请免费领取', 'BUY NOW!!', 'ｂｕｙ ｎｏｗ', 'add me on ｖｘ', 'b\u200Buy now']) {
      const d = policy.decide(groupEvent(t))
      assert.equal(d.action, 'deny', t)
      assert.equal(d.rule, 'r')
      assert.match(d.reason, /^keyword "(buy now|免费领取|vx)" in MsgBody\[0\]\.MsgContent\.Text$/)
      assert.deepEqual(answerFor(G, d.verdict), { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: '' })
    }
    assert.equal(policy.decide(groupEvent('buy later, 免费 领取')).action, 'allow')
  })

  it('looks in TIMCustomElem Data/Desc only when fields include custom', () => {
    const custom = [{ MsgType: 'TIMCustomElem', MsgContent: { Data: 'BUY NOW', Desc: '' } }]
    assert.equal(policy.decide(groupEvent(custom)).action, 'allow')
    const p = one({ when: { keywords: { words: ['buy now'], fields: ['text', 'custom'] } }, then: 'deny' })
    const d = p.decide(groupEvent(custom))
    assert.equal(d.action, 'deny')
    assert.match(d.reason, /MsgBody\[0\]\.MsgContent\.Data/)
  })

  it('wholeWords: Latin words match as words only; CJK still matches inside text', () => {
    const p = one({ when: { keywords: { words: ['ass', '傻'], wholeWords: true } }, then: 'deny' })
    assert.equal(p.decide(groupEvent('first class')).action, 'allow')
    assert.equal(p.decide(groupEvent('you ass!')).action, 'deny')
    assert.equal(p.decide(groupEvent('你好傻啊')).action, 'deny')
  })

  const dir = mkdtempSync(join(tmpdir(), 'timhook-policy-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('keywordsFile: 10,000 words from a file, relative to baseDir, comments ignored', () => {
    const words = Array.from({ length: 10_000 }, (_, i) => `spamword${i}`)
    writeFileSync(join(dir, 'words.txt'), `# list\n\n${words.join('\n')}\n违禁词 # a comment\n`)
    const p = createPolicy({ rules: [{ name: 'file', when: { keywordsFile: './words.txt' }, then: 'deny' }] }, { baseDir: dir })
    assert.equal(p.decide(groupEvent('hello SPAMWORD9999 there')).action, 'deny')
    assert.equal(p.decide(groupEvent('这是违禁词')).action, 'deny')
    assert.equal(p.decide(groupEvent('spamword')).action, 'allow')
    assert.ok(p.files.includes(join(dir, 'words.txt')))
  })
})

describe('regex, links, length, muted, always', () => {
  it('regex: matches the original text; fold: true matches full-width digits too', () => {
    const plain = one({ when: { regex: '1[3-9]\\d{9}' }, then: 'deny' })
    assert.equal(plain.decide(groupEvent('call 13812345678')).action, 'deny')
    assert.equal(plain.decide(groupEvent('call １３８１２３４５６７８')).action, 'allow')
    const folded = one({ when: { regex: { pattern: '1[3-9]\\d{9}', fold: true } }, then: 'deny' })
    assert.equal(folded.decide(groupEvent('call １３８１２３４５６７８')).action, 'deny')
    const ci = one({ when: { regex: { pattern: 'free\\s+money', flags: 'i' } }, then: 'drop' })
    assert.deepEqual(answerFor(G, ci.decide(groupEvent('FREE  Money')).verdict).ErrorCode, 2)
  })

  it('links: scheme URLs, www., bare domains, obfuscated full-width; allow-listed domains pass', () => {
    const p = one({ when: { links: { allow: ['example.com'] } }, then: 'deny' })
    for (const t of [
      'see http://evil.cn/x',
      'www.evil.org',
      'go to evil.xyz/abc now',
      'ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ',
      '访问evil.top领取',
    ])
      assert.equal(p.decide(groupEvent(t)).action, 'deny', t)
    for (const t of ['https://example.com/a', 'docs.example.com', 'no links. here.', 'version 1.2.3', 'file.txt'])
      assert.equal(p.decide(groupEvent(t)).action, 'allow', t)
    assert.match(
      one({ when: { links: true }, then: 'deny' }).decide(groupEvent('x https://a.example.com/p')).reason,
      /link to "a\.example\.com"/,
    )
  })

  it('length: max and min count characters (a surrogate pair is one)', () => {
    const p = one({ when: { length: { max: 5 } }, then: 'deny' })
    assert.equal(p.decide(groupEvent('12345')).action, 'allow')
    assert.equal(p.decide(groupEvent('😀😀😀😀😀')).action, 'allow')
    const d = p.decide(groupEvent('123456'))
    assert.deepEqual([d.action, d.reason], ['deny', 'text is 6 characters (max 5)'])
    assert.equal(one({ when: { length: { min: 2 } }, then: 'deny' }).decide(groupEvent('x')).action, 'deny')
  })

  it('muted: senders and groups, with expiry; true means no expiry', () => {
    const p = one(
      { when: { muted: true }, then: 'deny' },
      { muted: { senders: { bob: '2030-01-01T00:00:00Z', eve: true }, groups: { '@TGS#quiet': '2030-01-01T00:00:00Z' } } },
    )
    const before = Date.parse('2029-12-31T00:00:00Z')
    const afterExpiry = Date.parse('2030-01-02T00:00:00Z')
    assert.equal(p.decide(groupEvent('hi', { From_Account: 'bob' }), before).action, 'deny')
    assert.match(p.decide(groupEvent('hi', { From_Account: 'bob' }), before).reason, /sender "bob" is muted until 2030-01-01/)
    assert.equal(p.decide(groupEvent('hi', { From_Account: 'bob' }), afterExpiry).action, 'allow')
    assert.equal(p.decide(c2cEvent('hi', { From_Account: 'eve' }), afterExpiry).action, 'deny')
    assert.equal(p.decide(groupEvent('hi', { GroupId: '@TGS#quiet' }), before).action, 'deny')
    assert.equal(
      one({ when: { muted: 'sender' }, then: 'deny' }, { muted: { groups: { '@TGS#quiet': true } } }).decide(
        groupEvent('hi', { GroupId: '@TGS#quiet' }),
      ).action,
      'allow',
    )
  })

  it('all / any / not, and several keys in one condition (all must hold)', () => {
    const p = one({
      when: { all: [{ keywords: ['buy'] }, { not: { links: true } }], any: [{ keywords: ['now'] }, { length: { min: 4 } }] },
      then: 'deny',
    })
    assert.equal(p.decide(groupEvent('buy now')).action, 'deny')
    assert.equal(p.decide(groupEvent('buy now at shop.com')).action, 'allow')
    assert.equal(p.decide(groupEvent('buy later')).action, 'allow')
    assert.equal(p.decide(groupEvent('buy')).action, 'deny')
  })
})

describe('rate limits: sliding windows', () => {
  it('per sender: max messages per window, the window slides rather than resets', () => {
    const p = one({
      when: { rate: { per: 'sender', max: 3, window: '10s' } },
      then: { deny: { code: 10101, info: 'slow down' } },
      scope: { commands: ['group'] },
    })
    const at = (t: number, from = 'alice') => p.decide(groupEvent('hi', { From_Account: from }), t).action
    assert.deepEqual([at(0), at(1000), at(2000), at(3000)], ['allow', 'allow', 'allow', 'deny'])
    assert.equal(at(3000, 'bob'), 'allow', 'another sender has its own window')
    assert.equal(at(9999), 'deny', 'still three within (−0.001 s, 9.999 s]')
    assert.equal(at(10_000), 'allow', 'the message at 0 left the window')
    assert.equal(at(10_500), 'deny', '1000, 2000, 10000 are in the window')
    assert.equal(at(11_000), 'allow')
    const d = p.decide(groupEvent('hi'), 11_001)
    assert.equal(d.code, 10101)
    assert.match(d.reason, /rate: sender "alice" already sent 3 messages within 10s \(max 3\)/)
  })

  it('two rate conditions in one rule keep a window each, and a redelivery is counted once in both', () => {
    const p = one({
      scope: { commands: ['group'] },
      when: { any: [{ rate: { per: 'sender', max: 100, window: '1h' } }, { rate: { per: 'sender', max: 2, window: '10s' } }] },
      then: 'deny',
    })
    const at = (t: number, random: number) => p.decide(groupEvent('hi', { Random: random }), t).action
    assert.deepEqual(
      [at(0, 1), at(1, 1), at(2, 2), at(3, 3)],
      ['allow', 'allow', 'allow', 'deny'],
      'the third message is the third within 10 s; the redelivery of the first is not',
    )
  })

  it('per group counts every sender of the group; one-to-one messages have no group window', () => {
    const p = one({ when: { rate: { per: 'group', max: 2, window: 1000 } }, then: 'deny' })
    assert.deepEqual(
      [
        p.decide(groupEvent('a', { From_Account: 'a' }), 0).action,
        p.decide(groupEvent('b', { From_Account: 'b' }), 1).action,
        p.decide(groupEvent('c', { From_Account: 'c' }), 2).action,
      ],
      ['allow', 'allow', 'deny'],
    )
    for (let i = 0; i < 5; i++) assert.equal(p.decide(c2cEvent('x'), i).action, 'allow')
  })
})

describe('actions', () => {
  it('deny with a custom code for the command; C2C plain deny answers ErrorCode 1 (the sender sees 20006)', () => {
    const p = createPolicy({
      rules: [{ name: 'd', when: { keywords: ['bad'] }, then: { deny: { code: { group: 10150, c2c: 120150 }, info: 'no' } } }],
    })
    assert.deepEqual(answerFor(G, p.decide(groupEvent('bad')).verdict), { ActionStatus: 'OK', ErrorCode: 10150, ErrorInfo: 'no' })
    assert.deepEqual(answerFor('C2C.CallbackBeforeSendMsg', p.decide(c2cEvent('bad')).verdict), {
      ActionStatus: 'OK',
      ErrorCode: 120150,
      ErrorInfo: 'no',
    })
    assert.equal(p.decide(c2cEvent('bad')).code, 120150)
  })

  it('allow stops evaluation; first matching stop rule decides', () => {
    const p = createPolicy({
      rules: [
        { name: 'vip', scope: { senders: ['vip'] }, when: { always: true }, then: 'allow' },
        { name: 'no', when: { always: true }, then: 'deny' },
      ],
    })
    assert.deepEqual([p.decide(groupEvent('x', { From_Account: 'vip' })).rule, p.decide(groupEvent('x')).rule], ['vip', 'no'])
  })

  it('mask rewrites the matched text, keeps other elements, and goes on to the next rules', () => {
    const p = createPolicy({
      rules: [
        { name: 'phone', when: { regex: '1[3-9]\\d{9}' }, then: { mask: '*' } },
        { name: 'words', when: { keywords: ['ＦＵＣＫ', '傻瓜'] }, then: { mask: '#' } },
        { name: 'after', scope: { commands: ['group'] }, when: { keywords: ['***'] }, then: { deny: { code: 10190 } } },
      ],
    })
    const body = [...text('call 13812345678, Fuck you 傻瓜'), { MsgType: 'TIMFaceElem', MsgContent: { Index: 1, Data: 'smile' } }]
    const d = p.decide(groupEvent(body))
    // The third rule sees the masked text: '***' now occurs, so it denies and the rewrite is dropped.
    assert.deepEqual([d.action, d.rule, d.rewritten], ['deny', 'after', false])
    assert.deepEqual(
      d.matched.map((m) => [m.rule, m.action]),
      [
        ['phone', 'mask'],
        ['words', 'mask'],
        ['after', 'deny'],
      ],
    )
    const q = createPolicy({
      rules: [
        { name: 'phone', when: { regex: '1[3-9]\\d{9}' }, then: { mask: '*' } },
        { name: 'words', when: { keywords: ['ＦＵＣＫ', '傻瓜'] }, then: { mask: '[censored]' } },
      ],
    })
    const r = q.decide(groupEvent(body))
    assert.deepEqual([r.action, r.rule, r.rewritten], ['mask', 'words', true])
    assert.deepEqual(answerFor(G, r.verdict).MsgBody, [...text('call ***********, [censored] you [censored]'), body[1]])
    assert.deepEqual(body[0], text('call 13812345678, Fuck you 傻瓜')[0], 'the event is not mutated')
  })

  it('mask covers full-width and zero-width obfuscation in the original text', () => {
    const p = one({ when: { keywords: ['buy now'] }, then: { mask: '*' } })
    const r = p.decide(groupEvent('ok ＢＵＹ\u200B ＮＯＷ ok'))
    assert.deepEqual(answerFor(G, r.verdict).MsgBody, text('ok ******** ok'))
  })

  it('stamp appends a TIMCustomElem with the sender level (the docs example), default when absent', () => {
    const p = createPolicy({
      rules: [
        { name: 'lvl', when: { always: true }, then: { stamp: { desc: 'CustomElement.MemberLevel', dataFrom: 'levels', default: 'LV0' } } },
      ],
      levels: { alice: 'LV3' },
    })
    assert.deepEqual(answerFor(G, p.decide(groupEvent('hi')).verdict).MsgBody, [
      ...text('hi'),
      { MsgType: 'TIMCustomElem', MsgContent: { Data: 'LV3', Desc: 'CustomElement.MemberLevel' } },
    ])
    assert.deepEqual(answerFor(G, p.decide(groupEvent('hi', { From_Account: 'zed' })).verdict).MsgBody?.[1], {
      MsgType: 'TIMCustomElem',
      MsgContent: { Data: 'LV0', Desc: 'CustomElement.MemberLevel' },
    })
  })

  it('stamp never adds a second TIMCustomElem (at most one per message) and says so', () => {
    const p = createPolicy({ rules: [{ name: 'lvl', when: { always: true }, then: { stamp: { data: 'LV1' } } }] })
    const body = [{ MsgType: 'TIMCustomElem', MsgContent: { Data: 'app' } }]
    const d = p.decide(groupEvent(body))
    assert.equal(d.rewritten, false)
    assert.match(d.reason, /not stamped: the message already has a TIMCustomElem/)
  })

  it('mask then stamp: one rewritten MsgBody with both', () => {
    const p = createPolicy({
      rules: [
        { name: 'm', when: { regex: '\\d{4}' }, then: { mask: '*' } },
        { name: 's', when: { always: true }, then: { stamp: { data: 'LV2', desc: 'CustomElement.MemberLevel' } } },
      ],
    })
    const d = p.decide(c2cEvent('pin 1234'))
    assert.deepEqual(answerFor('C2C.CallbackBeforeSendMsg', d.verdict).MsgBody, [
      ...text('pin ****'),
      { MsgType: 'TIMCustomElem', MsgContent: { Data: 'LV2', Desc: 'CustomElement.MemberLevel' } },
    ])
  })
})

describe('scope and dry run', () => {
  it('scope: commands, groupTypes (with legacy aliases), groups, senders, exceptSenders', () => {
    const p = createPolicy({
      rules: [
        { name: 'public-only', scope: { groupTypes: ['Public', 'Work'] }, when: { keywords: ['x'] }, then: 'deny' },
        { name: 'c2c-only', scope: { commands: ['c2c'], exceptSenders: ['admin'] }, when: { keywords: ['y'] }, then: 'deny' },
      ],
    })
    assert.equal(p.decide(groupEvent('x')).rule, 'public-only')
    assert.equal(p.decide(groupEvent('x', { Type: 'Private' })).rule, 'public-only')
    assert.equal(p.decide(groupEvent('x', { Type: 'AVChatRoom' })).rule, undefined)
    assert.equal(p.decide(c2cEvent('x')).rule, undefined)
    assert.equal(p.decide(c2cEvent('y')).rule, 'c2c-only')
    assert.equal(p.decide(c2cEvent('y', { From_Account: 'admin' })).rule, undefined)
    assert.equal(p.decide(groupEvent('y')).rule, undefined)
  })

  it('policy dryRun: decides and records, always answers a plain allow', () => {
    const p = createPolicy({
      dryRun: true,
      rules: [
        { name: 'm', when: { keywords: ['a'] }, then: { mask: '*' } },
        { name: 'd', scope: { commands: ['group'] }, when: { keywords: ['b'] }, then: { deny: { code: 10101 } } },
      ],
    })
    const d = p.decide(groupEvent('a b'))
    assert.deepEqual([d.action, d.rule, d.dryRun, d.rewritten, d.verdict.kind, d.code], ['deny', 'd', true, false, 'allow', undefined])
    assert.deepEqual(answerFor(G, d.verdict), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
  })

  it('rule dryRun: recorded as what it would have done, not enforced; later rules still decide', () => {
    const p = createPolicy({
      rules: [
        { name: 'trial', dryRun: true, when: { keywords: ['a'] }, then: 'deny' },
        { name: 'real', when: { keywords: ['b'] }, then: 'drop' },
      ],
    })
    const trial = p.decide(groupEvent('a'))
    assert.deepEqual([trial.verdict.kind, trial.action, trial.rule, trial.dryRun], ['allow', 'deny', 'trial', true])
    const both = p.decide(groupEvent('a b'))
    assert.deepEqual([both.verdict.kind, both.rule, both.dryRun], ['drop', 'real', false])
    assert.deepEqual(
      both.matched.map((m) => [m.rule, m.dryRun]),
      [
        ['trial', true],
        ['real', false],
      ],
    )
  })

  it('no rule matched → allow, no allocation of a new decision; other commands → allow with the reason', () => {
    const p = one({ when: { keywords: ['zzz'] }, then: 'deny' })
    assert.equal(p.decide(groupEvent('a')), p.decide(groupEvent('b')))
    assert.equal(p.decide(groupEvent('a')).reason, 'no rule matched')
    assert.match(
      p.decide({ ...groupEvent('zzz'), CallbackCommand: 'Group.CallbackAfterSendMsg' }).reason,
      /not a before-send message callback/,
    )
    assert.equal(p.decide({ CallbackCommand: G, GroupId: 'x' }).reason, 'the event has no MsgBody')
  })

  it('decider(): answers the verdict and puts the decision in ctx.meta.policy', () => {
    const p = one({ when: { keywords: ['bad'] }, then: 'deny' })
    const ctx: DeciderContext = { command: G, meta: {} }
    assert.equal(p.decider(groupEvent('bad'), ctx).kind, 'deny')
    assert.equal(ctx.meta?.policy?.rule, 'r')
    // The command comes from the context: an event body without CallbackCommand is decided as ctx says.
    const { CallbackCommand: _, ...bare } = groupEvent('bad')
    assert.equal(p.decider(bare, { command: G }).kind, 'deny')
    assert.equal(p.decider(bare, { command: 'Group.CallbackAfterSendMsg' }).kind, 'allow')
  })
})
