/**
 * Every callback body in the corpus (test/fixtures/callbacks) goes through the receiver in strict
 * and in default mode: accepted, given to its typed handler as valid, and unchanged but for the
 * documented coercions. The schemas require only what every example of a command has, and strict
 * mode refuses a body of another command's shape when that shape lacks what the command requires.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { COMMANDS, commandInfo, isBeforeCommand } from '../../src/protocol/commands.js'
import { commandSchemas } from '../../src/protocol/schemas/index.js'
import type { Schema } from '../../src/protocol/schemas/dsl.js'
import { createReceiver } from '../../src/receiver/index.js'
import type { CallbackContext } from '../../src/receiver/index.js'
import { verdict } from '../../src/protocol/verdict.js'
import { APP, answerOf, query } from '../helpers/callbacks.js'
import { corpusByCommand, corpusTableRows, differences, fieldsInEvery, loadCorpus } from '../helpers/corpus.js'

const corpus = loadCorpus()
const byCommand = corpusByCommand(corpus)
const LANGUAGES = new Set(['zh', 'en', 'ja', 'ko', 'ru'])

/** The fields a command's schema requires (besides CallbackCommand). */
function requiredOf(command: string): string[] {
  const c = commandSchemas.find((s) => s.command === command)!
  return Object.entries(c.fields).flatMap(([name, f]) =>
    'schema' in f && 'required' in f && (f as { required: boolean }).required ? [name] : [],
  )
}

function receiverFor(command: string, strict: boolean) {
  const receiver = createReceiver({ sdkAppId: APP, strict })
  const seen: Array<{ event: Record<string, unknown>; ctx: CallbackContext }> = []
  receiver.on(
    command as 'Group.CallbackAfterRecallMsg',
    ((event: Record<string, unknown>, ctx: CallbackContext) => {
      seen.push({ event, ctx })
      return isBeforeCommand(command) ? verdict.allow() : undefined
    }) as never,
  )
  return { receiver, seen }
}

describe('the callback corpus', () => {
  it('every file names a catalogued command, its source and the fixes made to it', () => {
    assert.ok(corpus.length >= 20, `${corpus.length} examples`)
    for (const e of corpus) {
      assert.ok(commandInfo(e.command), `${e.file}: ${e.command} is in the catalogue`)
      // The push plugin's batches carry the command in each event only, not at the top.
      assert.equal(
        e.body.CallbackCommand ?? (e.command.startsWith('Push.') ? e.command : undefined),
        e.command,
        `${e.file}: the body's CallbackCommand`,
      )
      assert.ok(e.file.startsWith(`${e.command}--`), `${e.file} is named after its command`)
      assert.ok(
        Array.isArray(e.fixes) && e.fixes.every((f) => typeof f === 'string' && f.length > 10),
        `${e.file}: fixes say what was changed`,
      )
      if (e.source.kind === 'page') {
        assert.ok(LANGUAGES.has(e.source.language), `${e.file}: language ${e.source.language}`)
        assert.ok(e.source.url === null || /^https:\/\/[a-z.]+\//.test(e.source.url), `${e.file}: url`)
        assert.ok(e.source.pageDate === null || /^\d{4}-\d{2}-\d{2}$/.test(e.source.pageDate), `${e.file}: pageDate`)
        assert.ok(e.source.url !== null || (e.source.copy ?? '').length > 0, `${e.file}: a page without URL says what copy it came from`)
        assert.ok(e.file.includes(`--${e.source.language}-`), `${e.file} is named after its language`)
      } else {
        assert.equal(e.source.kind, 'capture', e.file)
        assert.ok(e.source.note.length > 20, `${e.file}: a capture says where it was found`)
        assert.ok(e.file.includes('--capture-'), `${e.file} is named as a capture`)
      }
    }
  })

  for (const e of corpus) {
    for (const strict of [true, false]) {
      it(`${e.file}: accepted ${strict ? 'in strict mode' : 'by default'}, and its handler gets every field unchanged`, async () => {
        const { receiver, seen } = receiverFor(e.command, strict)
        const errors: string[] = []
        receiver.onError((err) => errors.push(err.message))
        const res = await receiver.handle({ method: 'POST', query: query(e.command), body: JSON.stringify(e.body) })
        assert.equal(res.status, 200, answerOf(res).ErrorInfo)
        assert.equal(answerOf(res).ActionStatus, 'OK')
        assert.deepEqual(errors, [], 'no schema mismatch reported')
        assert.equal(seen.length, 1, 'the typed handler ran once')
        assert.equal(seen[0]!.ctx.valid, true, seen[0]!.ctx.problem)
        assert.equal(seen[0]!.ctx.known, true)
        assert.deepEqual(differences(e.body, seen[0]!.event), [], 'no field lost, added or changed')
      })
    }
  }

  it('the comparison used above sees a lost, an added and a changed field, and allows only the documented coercions', () => {
    const sent = { CallbackCommand: 'X', A: '12', B: 3, C: [{ D: 'x' }], TopicId: '' }
    assert.deepEqual(differences(sent, { CallbackCommand: 'X', A: 12, B: '3', C: [{ D: 'x' }] }), [])
    assert.deepEqual(differences(sent, { CallbackCommand: 'X', A: 12, B: 3, C: [{}] }), ['body.C.0.D (lost)'])
    assert.deepEqual(differences(sent, { CallbackCommand: 'X', A: 13, B: 3, C: [{ D: 'x' }], E: 1 }), ['body.A', 'body.E (added)'])
    assert.deepEqual(differences({ A: 'abc' }, { A: 0 }), ['body.A'])
    assert.deepEqual(differences({ A: null }, { A: 0 }), ['body.A'])
  })

  it('a field is required only where every example of the command has it; commands without examples require nothing', () => {
    for (const c of COMMANDS) {
      const examples = byCommand.get(c.command) ?? []
      const required = requiredOf(c.command)
      if (examples.length === 0) {
        assert.deepEqual(required, [], `${c.command} has no example, so nothing may be required`)
        continue
      }
      const common = fieldsInEvery(examples)
      for (const f of required)
        assert.ok(common.has(f), `${c.command}: ${f} is required but ${examples.find((e) => !(f in e.body))?.file} lacks it`)
    }
  })

  it('docs/library.md has the corpus table as the corpus and the schemas make it', () => {
    const doc = readFileSync('docs/library.md', 'utf8')
    const header = '| command | examples (by language, captures) | required | optional for a specific reason |\n|---|---|---|---|\n'
    const start = doc.indexOf(header)
    assert.ok(start > 0, 'the table is in docs/library.md')
    const rows = doc.slice(start + header.length, doc.indexOf('\n\n', start)).split('\n')
    assert.deepEqual(rows, corpusTableRows(COMMANDS, requiredOf, corpus))
  })

  it("every command with examples requires at least one field, so another command's shape can be told apart", () => {
    for (const command of byCommand.keys()) assert.ok(requiredOf(command).length > 0, command)
  })

  it('strict mode refuses a C2C-shaped body sent as Group.CallbackAfterCreateGroup, naming the missing field', async () => {
    const c2c = byCommand.get('C2C.CallbackAfterMsgWithDraw')![0]!.body
    const { CallbackCommand: _, ...shape } = c2c
    const { receiver, seen } = receiverFor('Group.CallbackAfterCreateGroup', true)
    const res = await receiver.handle({ method: 'POST', query: query('Group.CallbackAfterCreateGroup'), body: JSON.stringify(shape) })
    assert.equal(res.status, 400)
    assert.match(answerOf(res).ErrorInfo, /^TIMHOOK_INVALID_EVENT: .*GroupId/)
    assert.equal(seen.length, 0)
  })

  it('strict mode refuses any example sent under another command whose required fields it lacks, naming one (generated)', async () => {
    const commands = [...byCommand.keys()]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...corpus), fc.constantFrom(...commands), async (example, command) => {
        fc.pre(command !== example.command)
        const { CallbackCommand: _, ...shape } = structuredClone(example.body)
        const missing = requiredOf(command).filter((f) => !(f in shape))
        const { receiver, seen } = receiverFor(command, true)
        const res = await receiver.handle({ method: 'POST', query: query(command), body: JSON.stringify(shape) })
        if (missing.length > 0) {
          assert.equal(res.status, 400, `${example.file} as ${command}`)
          // Named: the missing field, or a field of the body that has another type under this command.
          const info = answerOf(res).ErrorInfo
          assert.ok(info.startsWith('TIMHOOK_INVALID_EVENT: ') && [...missing, ...Object.keys(shape)].some((f) => info.includes(f)), info)
          assert.equal(seen.length, 0)
        } else {
          // The shape carries every field the command requires: refused only for a wrong type.
          assert.ok(res.status === 200 || /^TIMHOOK_INVALID_EVENT: /.test(answerOf(res).ErrorInfo), `${example.file} as ${command}`)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('the schemas type what the corpus shows', () => {
  const fieldSchema = (command: string, field: string): Schema | undefined => {
    const f = commandSchemas.find((s) => s.command === command)?.fields[field]
    return f === undefined ? undefined : 'schema' in f && 'required' in f ? (f as { schema: Schema }).schema : (f as Schema)
  }

  it('types every top-level field of every example under its own name', () => {
    const untyped: string[] = []
    for (const e of corpus) {
      for (const k of Object.keys(e.body)) {
        if (k === 'CallbackCommand') continue
        if (fieldSchema(e.command, k) === undefined && !(e.source.kind === 'capture' && k === 'NickName')) untyped.push(`${e.file}: ${k}`)
      }
    }
    assert.deepEqual(untyped, [], 'a field Tencent sends is missing from the schema (only the capture-only NickName is left untyped)')
  })

  it('Follow.CallbackAfterFollowDelete To_Account is an array; Follow.CallbackAfterFollowAdd has FollowList of To_Account', () => {
    assert.equal(fieldSchema('Follow.CallbackAfterFollowDelete', 'To_Account')?.type, 'array')
    assert.equal(fieldSchema('Follow.CallbackAfterFollowAdd', 'FollowList')?.items?.properties?.To_Account?.type, 'string')
    assert.equal(fieldSchema('Follow.CallbackAfterFollowAdd', 'To_Account'), undefined)
  })

  it('no schema keeps a name Tencent does not send', () => {
    assert.equal(fieldSchema('Sns.CallbackPrevFriendAdd', 'PairList'), undefined)
    assert.equal(fieldSchema('Sns.CallbackPrevFriendResponse', 'PairList'), undefined)
    assert.equal(fieldSchema('Group.CallbackAfterGroupAttrChanged', 'GroupAttribute'), undefined)
    for (const c of [
      'OfficialAccount.CallbackBeforeAddSubscriber',
      'OfficialAccount.CallbackAfterAddSubscriber',
      'OfficialAccount.CallbackAfterDeleteSubscriber',
    ]) {
      assert.equal(fieldSchema(c, 'Subscriber_Account'), undefined, c)
      assert.equal(fieldSchema(c, 'SubscribeAccountList')?.type, 'array', c)
    }
    for (const c of ['Group.CallbackBeforeCreateTopic', 'Group.CallbackAfterCreateTopic', 'Group.CallbackAfterTopicInfoChanged']) {
      assert.equal(fieldSchema(c, 'TopicName'), undefined, c)
      assert.equal(fieldSchema(c, 'Name')?.type, 'string', c)
    }
  })
})
