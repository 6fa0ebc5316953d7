import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { beforeSendEventKey, beforeSendMessageKey, groupSendKey, idempotencyKey, keyPart } from '../../src/protocol/idempotency-key.js'

const GROUP = 'Group.CallbackBeforeSendMsg'
const C2C = 'C2C.CallbackBeforeSendMsg'

describe('beforeSendMessageKey', () => {
  it('identifies a group send by group, topic, sender, Random and MsgId when present, the same from its after-send', () => {
    const base = { GroupId: '@TGS#1', From_Account: 'alice', Random: 42 }
    assert.equal(beforeSendMessageKey(GROUP, base), 'gs|@TGS#1||alice|42')
    assert.equal(
      beforeSendMessageKey(GROUP, { ...base, MsgId: 'x' }),
      'gs|@TGS#1||alice|42|x',
      'MsgId tells apart two sends that reuse a Random',
    )
    assert.equal(beforeSendMessageKey('Group.CallbackAfterSendMsg', { ...base, MsgId: 'x', MsgSeq: 9 }), 'gs|@TGS#1||alice|42|x')
    assert.equal(beforeSendMessageKey(GROUP, { ...base, TopicId: '@TGS#1@TOPIC#a' }), 'gs|@TGS#1|@TGS#1@TOPIC#a|alice|42')
    assert.notEqual(beforeSendMessageKey(GROUP, base), beforeSendMessageKey(GROUP, { ...base, From_Account: 'bob' }))
    assert.notEqual(beforeSendMessageKey(GROUP, base), beforeSendMessageKey(GROUP, { ...base, Random: 43 }))
    assert.equal(
      beforeSendMessageKey(GROUP, { GroupId: 'g', From_Account: 'a', Random: '7' }),
      'gs|g||a|7',
      'a numeric string is the same Random',
    )
    assert.equal(beforeSendMessageKey(GROUP, { GroupId: 'g', From_Account: 'a', Random: 0 }), 'gs|g||a|0', 'Random 0 is an identity')
  })

  it('is undefined when the event carries no identity, so that two messages are never taken for one', () => {
    assert.equal(beforeSendMessageKey(GROUP, { GroupId: 'g', From_Account: 'a' }), undefined)
    assert.equal(beforeSendMessageKey(GROUP, { GroupId: 'g', From_Account: 'a', Random: 1.5, MsgId: 'x' }), undefined)
    assert.equal(beforeSendMessageKey(GROUP, { From_Account: 'a', Random: 1 }), undefined, 'no group')
    assert.equal(beforeSendMessageKey(C2C, { From_Account: 'a', To_Account: 'b' }), undefined)
    assert.equal(beforeSendMessageKey(C2C, { MsgKey: '' }), undefined)
    assert.equal(beforeSendMessageKey('Group.CallbackAfterRecallMsg', { GroupId: 'g', Random: 1 }), undefined, 'not a send')
  })

  it('is what the before-send is recorded under, so that its message finds the decision', () => {
    assert.equal(idempotencyKey(C2C, { MsgKey: '1_2_3' }, ''), `${C2C}|c|1_2_3`)
    assert.equal(idempotencyKey(C2C, { MsgKey: '1_2_3' }, ''), beforeSendEventKey('c2c', 'c|1_2_3'))
    const body = { GroupId: 'g', From_Account: 'a', Random: 5 }
    assert.equal(idempotencyKey(GROUP, body, ''), beforeSendEventKey('group', beforeSendMessageKey(GROUP, body)!))
  })

  it('without an identity, a before-send is keyed by its raw body: two different ones are both kept', () => {
    const a = idempotencyKey(GROUP, { GroupId: 'g', From_Account: 'a' }, '{"n":1}')
    const b = idempotencyKey(GROUP, { GroupId: 'g', From_Account: 'a' }, '{"n":2}')
    assert.match(a, /\|sha256:[0-9a-f]{64}$/)
    assert.notEqual(a, b)
  })
})

const AFTER = 'Group.CallbackAfterSendMsg'
const raw = (body: Record<string, unknown>) => JSON.stringify(body)
const key = (command: string, body: Record<string, unknown>) => idempotencyKey(command, body, raw(body))
/** What a database driver stores: the key as UTF-8 (node:sqlite and pg turn a lone surrogate into U+FFFD). */
const stored = (k: string) => Buffer.from(k, 'utf8').toString('hex')

describe('idempotency keys cannot collide', () => {
  it('a `|` inside a part is not a separator', () => {
    const a = { GroupId: 'a|', MsgSeq: 7 }
    const b = { GroupId: 'a', TopicId: '|', MsgSeq: 7 }
    assert.notEqual(key(AFTER, a), key(AFTER, b))
    assert.notEqual(
      groupSendKey({ GroupId: 'g', From_Account: 'a|b', Random: 1 }),
      groupSendKey({ GroupId: 'g|a', From_Account: 'b', Random: 1 }),
    )
    assert.notEqual(key(C2C, { MsgKey: 'x|y' }), key(C2C, { MsgKey: 'x\\|y' }))
  })

  it('two different non-integer MsgSeq in one group are two events', () => {
    const a = { GroupId: 'g', MsgSeq: 1.5 }
    const b = { GroupId: 'g', MsgSeq: 'seven' }
    assert.notEqual(key(AFTER, a), key(AFTER, b))
    assert.doesNotMatch(key(AFTER, a), /NaN/)
    assert.match(key(AFTER, a), /\|sha256:[0-9a-f]{64}$/, 'a malformed id is no identity: the raw body is the key')
    assert.match(key(AFTER, { GroupId: 'g', MsgSeq: 2 ** 53 }), /\|sha256:/, 'too large to be exact')
    assert.match(key(AFTER, { GroupId: { a: 1 }, MsgSeq: 1 }), /\|sha256:/, 'an object is no group id')
    assert.match(key(AFTER, { GroupId: 'g', TopicId: true, MsgSeq: 1 }), /\|sha256:/, 'a boolean is no topic')
  })

  it('equal identities written differently share a key', () => {
    assert.equal(key(AFTER, { GroupId: 'g', MsgSeq: 7, Extra: 1 }), key(AFTER, { GroupId: 'g', MsgSeq: '7', TopicId: '' }))
    assert.equal(key(AFTER, { GroupId: 'g', MsgSeq: 7 }), 'Group.CallbackAfterSendMsg|g|g||7', 'ordinary ids read as before')
    assert.equal(
      key('Group.CallbackAfterModifyMsg', { GroupId: 'g', MsgSeq: 7, EventTime: 5 }),
      key('Group.CallbackAfterModifyMsg', { GroupId: 'g', MsgSeq: '7', EventTime: '5' }),
    )
  })

  it('stays injective as UTF-8: lone surrogates and U+0000 are escaped, not replaced', () => {
    const ids = ['\uD800', '\uDBFF', '\uDC00', '\uFFFD', '\u0000', '\\0', '\\ud800', '\uD83D\uDE00']
    const keys = ids.map((GroupId) => stored(key(AFTER, { GroupId, MsgSeq: 1 })))
    assert.equal(new Set(keys).size, ids.length)
    for (const k of ids.map((GroupId) => key(AFTER, { GroupId, MsgSeq: 1 }))) {
      assert.ok(!k.includes('\u0000') && k === Buffer.from(k, 'utf8').toString('utf8'), `${JSON.stringify(k)} survives UTF-8 unchanged`)
    }
    assert.equal(keyPart('\uD83D\uDE00'), '\uD83D\uDE00', 'a well-formed pair is kept')
  })
})

// Generated identities: text with the characters that matter (separator, escape, U+0000, lone
// surrogates, U+FFFD) mixed into arbitrary strings.
const tricky = fc.constantFrom('|', '\\', '\u0000', '\uD800', '\uDFFF', '\uFFFD', '\\|', 'u', 'd800', ',', '')
const text = fc.array(fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 5 }).map((parts) => parts.join(''))
const seq = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.constantFrom(1.5, -1, 2 ** 53, 'x', '12', '012', null, true))
const topicId = fc.oneof(text, fc.constantFrom(undefined, null, 5, false))
const groupId = fc.oneof(text, fc.constantFrom(5, null, undefined, {}))

/** The model: the identity a body carries, as plain data; a body without one is identified by its raw bytes. */
function model(command: string, body: Record<string, unknown>): string {
  const textId = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined)
  const intId = (v: unknown) => {
    const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : v
    return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined
  }
  const topic = body.TopicId == null ? '' : textId(body.TopicId)
  const parts: unknown[] = [command]
  if (command === AFTER) parts.push(textId(body.GroupId), topic, intId(body.MsgSeq))
  else if (command === GROUP) {
    const msgId = body.MsgId == null || body.MsgId === '' ? '' : textId(body.MsgId)
    parts.push(textId(body.GroupId), topic, body.From_Account == null ? '' : textId(body.From_Account), intId(body.Random), msgId)
  } else parts.push(textId(body.MsgKey) || undefined)
  return parts.includes(undefined) ? JSON.stringify([command, 'raw', raw(body)]) : JSON.stringify(parts)
}

const bodies = fc.oneof(
  fc.record({ GroupId: groupId, TopicId: topicId, MsgSeq: seq }, { requiredKeys: [] }).map((b) => [AFTER, b] as const),
  fc
    .record(
      {
        GroupId: groupId,
        TopicId: topicId,
        From_Account: fc.oneof(text, fc.constant(undefined)),
        Random: seq,
        MsgId: fc.oneof(text, fc.constant(undefined)),
      },
      { requiredKeys: [] },
    )
    .map((b) => [GROUP, b] as const),
  fc.record({ MsgKey: fc.oneof(text, fc.constantFrom(undefined, 7, {})) }, { requiredKeys: [] }).map((b) => [C2C, b] as const),
)

/** Reads a key back into its parts: the inverse of `parts.map(keyPart).join('|')`. */
function splitKey(k: string): string[] {
  const parts: string[] = []
  let part = ''
  for (let i = 0; i < k.length; i++) {
    const c = k[i]!
    if (c === '|') {
      parts.push(part)
      part = ''
    } else if (c !== '\\') part += c
    else {
      const e = k[++i]
      if (e === 'u') {
        part += String.fromCharCode(parseInt(k.slice(i + 1, i + 5), 16))
        i += 4
      } else part += e === '0' ? '\u0000' : e
    }
  }
  parts.push(part)
  return parts
}

describe('idempotency keys: generated identities', () => {
  it('distinct identities never share a stored key, and equal ones always do', () => {
    fc.assert(
      fc.property(bodies, bodies, ([ca, a], [cb, b]) => {
        const same = model(ca, a) === model(cb, b)
        assert.equal(stored(key(ca, a)) === stored(key(cb, b)), same, `${model(ca, a)} vs ${model(cb, b)}`)
      }),
      { numRuns: 3000 },
    )
  })

  it('the parts of a key are recovered from it (escaping is injective)', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 5 }), (parts) => {
        const joined = parts.map(keyPart).join('|')
        assert.ok(!joined.includes('\u0000') && Buffer.from(joined, 'utf8').toString('utf8') === joined, 'nothing a driver would rewrite')
        assert.deepEqual(splitKey(joined), parts)
      }),
    )
  })

  it('the same identity written another way has the same key; another identity another key', () => {
    /** The body with its identity spelled differently: numbers as digit strings, no topic as '', an unrelated field. */
    const respell = (b: Record<string, unknown>) => {
      const out: Record<string, unknown> = { ...b, Unrelated: 1 }
      for (const f of ['MsgSeq', 'Random'] as const) if (Number.isSafeInteger(b[f]) && (b[f] as number) >= 0) out[f] = String(b[f])
      if (b.TopicId == null) out.TopicId = b.TopicId === null ? '' : null
      return out
    }
    fc.assert(
      fc.property(bodies, ([c, b]) => {
        const b2 = respell(b)
        const sameModel = model(c, b) === model(c, b2)
        assert.equal(key(c, b) === key(c, b2), sameModel)
        if (!model(c, b).includes('"raw"')) assert.ok(sameModel, 'a respelled identity is the same identity')
      }),
    )
  })

  it('two bodies with one identity collide only on equal identity; the same body always has the same key', () => {
    fc.assert(
      fc.property(bodies, ([c, b]) => {
        assert.equal(key(c, b), key(c, JSON.parse(raw(b)) as Record<string, unknown>))
      }),
    )
  })
})
