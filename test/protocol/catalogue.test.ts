import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { COMMANDS, commandInfo, isBeforeCommand } from '../../src/protocol/commands.js'
import { isKnownCommand } from '../../src/protocol/decode.js'
import { generate } from '../../scripts/generate.js'

describe('command catalogue', () => {
  it('lists the 61 documented commands, each once', () => {
    assert.equal(COMMANDS.length, 61)
    assert.equal(new Set(COMMANDS.map((c) => c.command)).size, 61)
  })

  it("matches the command list of Tencent's pages exactly (test/fixtures/command-list.txt)", () => {
    const listed = readFileSync('test/fixtures/command-list.txt', 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
    assert.deepEqual(
      listed,
      COMMANDS.map((c) => c.command),
    )
  })

  it('marks before/after and group/c2c/other', () => {
    assert.deepEqual(commandInfo('Group.CallbackBeforeSendMsg'), {
      command: 'Group.CallbackBeforeSendMsg',
      phase: 'before',
      family: 'group',
      summary: 'before a group message is delivered',
    })
    assert.equal(commandInfo('C2C.CallbackAfterMsgWithDraw')?.family, 'c2c')
    assert.equal(commandInfo('Sns.CallbackPrevFriendAdd')?.phase, 'before')
    assert.equal(commandInfo('Bot.OnGroupMessage')?.family, 'other')
    assert.equal(isBeforeCommand('Group.CallbackAfterRecallMsg'), false)
    assert.equal(isBeforeCommand('Group.CallbackBeforeRecallMsg'), false, 'does not exist: group recall has only an after-callback')
    assert.equal(COMMANDS.filter((c) => c.phase === 'before').length, 11)
  })

  it('has a schema and a validator for every catalogued command', () => {
    for (const c of COMMANDS) assert.ok(isKnownCommand(c.command), c.command)
  })
})

describe('generated files', () => {
  it('are exactly what scripts/generate.ts produces from the schemas (run `npm run generate`)', () => {
    for (const [path, text] of Object.entries(generate())) {
      assert.ok(readFileSync(path, 'utf8') === text, `${path} is stale: run npm run generate and commit the result`)
    }
  })
})
