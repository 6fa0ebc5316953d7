import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeEvent, isKnownCommand, normalizePlatform } from '../../src/protocol/decode.js'
import { KNOWN_ELEMENT_TYPES } from '../../src/protocol/schemas/elements.js'
import { isElement, textOf } from '../../src/protocol/msg-body.js'

describe('tolerant decoding', () => {
  it('accepts integers as numbers or numeric strings and exposes numbers', () => {
    const r = decodeEvent('Group.CallbackAfterSendMsg', {
      GroupId: 'g',
      From_Account: 'a',
      MsgSeq: '42',
      MsgTime: '1670574414',
      Random: '7',
      EventTime: '1670574414123',
      MsgBody: [],
    })
    assert.ok(r.ok)
    assert.deepEqual([r.event.MsgSeq, r.event.MsgTime, r.event.Random, r.event.EventTime], [42, 1670574414, 7, 1670574414123])
  })

  it('accepts uint32 values up to 4294967295 and refuses beyond or below', () => {
    const at = (seq: unknown) => decodeEvent('Group.CallbackAfterRecallMsg', { GroupId: 'g', MsgSeqList: [{ MsgSeq: seq }] })
    assert.ok(at(4294967295).ok)
    assert.ok(at('3998651049').ok)
    const over = at(4294967296)
    assert.ok(!over.ok && /MsgSeqList\.0\.MsgSeq must be <= 4294967295/.test(over.problem))
    assert.ok(!at(-1).ok)
    assert.ok(!at(1.5).ok)
  })

  it('treats TopicId "" as no topic, and keeps a real TopicId', () => {
    const empty = decodeEvent('Group.CallbackAfterModifyMsg', { GroupId: 'g', MsgSeq: 1, TopicId: '' })
    assert.ok(empty.ok && !('TopicId' in empty.event))
    const absent = decodeEvent('Group.CallbackAfterModifyMsg', { GroupId: 'g', MsgSeq: 1 })
    assert.ok(absent.ok && absent.event.TopicId === undefined)
    const topic = decodeEvent('Group.CallbackAfterModifyMsg', { GroupId: 'g', MsgSeq: 1, TopicId: '@TGS#_g@TOPIC#_t' })
    assert.ok(topic.ok && topic.event.TopicId === '@TGS#_g@TOPIC#_t')
  })

  it('keeps unknown fields and unknown MsgType elements as received', () => {
    const body = {
      GroupId: 'g',
      From_Account: 'a',
      FutureField: { nested: [1, 'x'] },
      MsgBody: [
        { MsgType: 'TIMGroupTipElem', MsgContent: { Anything: true }, Extra: 1 },
        { MsgType: 'TIMTextElem', MsgContent: { Text: 'hi', Lang: 'en' } },
      ],
    }
    const r = decodeEvent('Group.CallbackBeforeSendMsg', structuredClone(body))
    assert.ok(r.ok)
    assert.deepEqual(r.event, { ...body, CallbackCommand: 'Group.CallbackBeforeSendMsg' })
  })

  it('validates each of the nine known element types, and nested relay bodies', () => {
    assert.equal(KNOWN_ELEMENT_TYPES.length, 9)
    const elems = [
      { MsgType: 'TIMTextElem', MsgContent: { Text: 'a' } },
      { MsgType: 'TIMLocationElem', MsgContent: { Desc: 'x', Latitude: 1.5, Longitude: -2.25 } },
      { MsgType: 'TIMFaceElem', MsgContent: { Index: 1, Data: 'x' } },
      { MsgType: 'TIMCustomElem', MsgContent: { Data: 'd', Desc: 'CustomElement.MemberLevel', Ext: 'e', Sound: 's' } },
      { MsgType: 'TIMSoundElem', MsgContent: { Url: 'u', UUID: 'x', Size: 1, Second: 2, Download_Flag: 2 } },
      {
        MsgType: 'TIMImageElem',
        MsgContent: { UUID: 'x', ImageFormat: 1, ImageInfoArray: [{ Type: 1, Size: 1, Width: 1, Height: 1, URL: 'u' }] },
      },
      { MsgType: 'TIMFileElem', MsgContent: { Url: 'u', UUID: 'x', FileSize: 1, FileName: 'f', Download_Flag: 2 } },
      { MsgType: 'TIMVideoFileElem', MsgContent: { VideoUrl: 'u', VideoSize: 1, VideoSecond: 0, VideoFormat: 'mp4', ThumbWidth: 1 } },
      {
        MsgType: 'TIMRelayElem',
        MsgContent: {
          Title: 't',
          MsgNum: 1,
          CompatibleText: 'c',
          AbstractList: ['a'],
          MsgList: [
            {
              From_Account: 'a',
              GroupId: 'g',
              MsgSeq: 1,
              MsgRandom: 3998651049,
              MsgTimeStamp: 1,
              MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'inner' } }],
            },
          ],
        },
      },
    ]
    assert.deepEqual(
      elems.map((e) => e.MsgType),
      [...KNOWN_ELEMENT_TYPES],
    )
    assert.ok(decodeEvent('C2C.CallbackBeforeSendMsg', { From_Account: 'a', To_Account: 'b', MsgBody: elems }).ok)
    const badText = decodeEvent('C2C.CallbackBeforeSendMsg', {
      From_Account: 'a',
      To_Account: 'b',
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: { not: 'text' } } }],
    })
    assert.ok(!badText.ok && /MsgBody\.0\.MsgContent\.Text must be string/.test(badText.problem))
    const coerced = decodeEvent('C2C.CallbackBeforeSendMsg', {
      From_Account: 'a',
      To_Account: 'b',
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 5 } }],
    })
    const el = coerced.ok ? coerced.event.MsgBody[0] : undefined
    assert.ok(el !== undefined && isElement(el, 'TIMTextElem') && el.MsgContent.Text === '5', 'a scalar is coerced to the documented type')
    const badNested = decodeEvent('C2C.CallbackBeforeSendMsg', {
      From_Account: 'a',
      To_Account: 'b',
      MsgBody: [{ MsgType: 'TIMRelayElem', MsgContent: { MsgList: [{ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: {} }] }] } }],
    })
    assert.ok(!badNested.ok && /MsgList\.0\.MsgBody\.0\.MsgContent must have required property 'Text'/.test(badNested.problem))
  })

  it('textOf joins the text elements; isElement narrows', () => {
    const body = [
      { MsgType: 'TIMTextElem' as const, MsgContent: { Text: 'a' } },
      { MsgType: 'TIMFaceElem' as const, MsgContent: { Index: 1 } },
      { MsgType: 'TIMWhatever', MsgContent: { Text: 'not text' } },
      { MsgType: 'TIMTextElem' as const, MsgContent: { Text: 'b' } },
    ]
    assert.equal(textOf(body), 'a\nb')
    assert.equal(textOf(undefined), '')
    assert.equal(body.filter((el) => isElement(el, 'TIMFaceElem')).length, 1)
  })

  it('refuses null, booleans and non-decimal strings where a number or a string is documented (no silent 0)', () => {
    const recall = (patch: Record<string, unknown>, seq: unknown = 7) =>
      decodeEvent('Group.CallbackAfterRecallMsg', { GroupId: 'g', MsgSeqList: [{ MsgSeq: seq }], ...patch })
    for (const [r, pattern] of [
      [recall({}, null), /MsgSeqList\.0\.MsgSeq must be a number or a numeric string, got null/],
      [recall({}, true), /MsgSeqList\.0\.MsgSeq .* got true/],
      [recall({}, '0x10'), /MsgSeqList\.0\.MsgSeq must be an integer or its decimal digits, got "0x10"/],
      [recall({}, ' 7 '), /decimal digits/],
      [recall({ GroupId: null }), /GroupId must be a string, got null/],
      [recall({ EventTime: false }), /EventTime .* got false/],
      [recall({ EventTime: { t: 1 } }), /EventTime .* got an object/],
    ] as const) {
      assert.ok(!r.ok, `refused: ${pattern}`)
      assert.match(r.problem, pattern)
    }
    assert.ok(recall({ GroupId: 12345, EventTime: '-1' }, '4294967295').ok, 'numbers for strings and negative digit strings still decode')
  })

  it('treats commands named like Object.prototype members as unknown', () => {
    for (const command of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      assert.equal(isKnownCommand(command), false)
      const r = decodeEvent(command, { a: 1 })
      assert.ok(r.ok && r.known === false, command)
    }
  })

  it('names the missing required field', () => {
    const r = decodeEvent('C2C.CallbackAfterMsgWithDraw', { From_Account: 'a', To_Account: 'b' })
    assert.ok(!r.ok)
    assert.match(r.problem, /MsgKey/)
  })

  it('decodes unknown commands as they are', () => {
    assert.equal(isKnownCommand('X.New'), false)
    const r = decodeEvent('X.New', { a: 1 })
    assert.ok(r.ok && !r.known)
    assert.deepEqual(r.event, { a: 1, CallbackCommand: 'X.New' })
  })

  it('normalises OptPlatform spellings case-insensitively', () => {
    assert.equal(normalizePlatform('IOS'), 'iOS')
    assert.equal(normalizePlatform('iOS'), 'iOS')
    // Names of Object.prototype's properties are values like any other, passed through.
    for (const v of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) assert.equal(normalizePlatform(v), v)
    assert.equal(normalizePlatform('macOS'), 'Mac')
    assert.equal(normalizePlatform('restapi'), 'RESTAPI')
    assert.equal(normalizePlatform('Tizen'), 'Tizen')
    assert.equal(normalizePlatform(''), undefined)
  })
})
