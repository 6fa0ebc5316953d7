/**
 * The SQLite driver as the store uses it (node:sqlite): open errors that name the path and the
 * cause, only SQLite's own ExperimentalWarning silenced, and one behaviour for lone surrogates.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openStore } from '../../src/store/open-store.js'
import { openSqliteBackend } from '../../src/store/sqlite-backend.js'
import { asStored, isSqliteExperimentalWarning, openDatabase, sqliteCode } from '../../src/store/sqlite-driver.js'
import { groupSend, record } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'timhook-driver-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('opening a SQLite file', () => {
  it('fails with the path and "directory does not exist" when the directory is missing', async () => {
    const file = join(dir, 'missing', 'sub', 'x.db')
    assert.throws(() => openSqliteBackend(file), { message: `cannot open SQLite database ${file}: directory does not exist` })
    await assert.rejects(openStore(file), { message: `cannot open SQLite database ${file}: directory does not exist` })
  })

  it('fails with the path and the cause when the path is a directory or not a database', () => {
    const folder = join(dir, 'folder.db')
    mkdirSync(folder)
    assert.throws(() => openSqliteBackend(folder), { message: `cannot open SQLite database ${folder}: it is a directory` })
    const junk = join(dir, 'junk.db')
    writeFileSync(junk, 'this is not a SQLite file, and it is long enough to hold a header of 100 bytes........................')
    assert.throws(() => openSqliteBackend(junk), { message: `cannot open SQLite database ${junk}: file is not a database` })
  })

  it('refuses a file whose schema is newer than this timhook', () => {
    const file = join(dir, 'newer.db')
    openDatabase(file, {}, (db) => db.exec('PRAGMA user_version = 999')).close()
    assert.throws(() => openSqliteBackend(file), /schema is version 999, newer than this timhook knows/)
  })

  it('names SQLite result codes', () => {
    const db = openDatabase(':memory:')
    db.exec('CREATE TABLE t (a TEXT NOT NULL UNIQUE)')
    assert.throws(
      () => db.prepare('INSERT INTO t VALUES (?)').run(null),
      (err: unknown) => sqliteCode(err) === 'SQLITE_CONSTRAINT_NOTNULL',
    )
    db.prepare('INSERT INTO t VALUES (?)').run('a')
    assert.throws(
      () => db.prepare('INSERT INTO t VALUES (?)').run('a'),
      (err: unknown) => sqliteCode(err) === 'SQLITE_CONSTRAINT_UNIQUE',
    )
    assert.equal(sqliteCode(new Error('not SQLite')), undefined)
    db.close()
  })
})

describe('warnings', () => {
  it('recognises SQLite’s ExperimentalWarning and nothing else', () => {
    assert.equal(isSqliteExperimentalWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning'), true)
    assert.equal(
      isSqliteExperimentalWarning('SQLite is an experimental feature and might change at any time', { type: 'ExperimentalWarning' }),
      true,
    )
    assert.equal(isSqliteExperimentalWarning('SQLite is an experimental feature', 'DeprecationWarning'), false)
    assert.equal(isSqliteExperimentalWarning('WASI is an experimental feature and might change at any time', 'ExperimentalWarning'), false)
    assert.equal(isSqliteExperimentalWarning(new Error('SQLite is an experimental feature'), undefined), false)
  })

  it('prints no SQLite ExperimentalWarning when the store loads the driver, and other warnings still show', () => {
    const driver = new URL('../../src/store/sqlite-driver.ts', import.meta.url).href
    const program = `await import(${JSON.stringify(driver)})
process.emitWarning('something else is an experimental feature', 'ExperimentalWarning')
process.emitWarning('a warning of the program', { type: 'TimhookTestWarning', code: 'T1' })`
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
      encoding: 'utf8',
      env: { ...process.env, NODE_NO_WARNINGS: '' },
    })
    assert.equal(child.status, 0, child.stderr)
    assert.doesNotMatch(child.stderr, /SQLite is an experimental feature/)
    assert.match(child.stderr, /ExperimentalWarning: something else is an experimental feature/)
    assert.match(child.stderr, /TimhookTestWarning: a warning of the program/)
  })
})

describe('lone surrogates (strings with no UTF-8 form)', () => {
  it('are stored as U+FFFD in text columns, kept exactly in JSON bodies, and found by a filter holding them', async () => {
    const file = join(dir, 'surrogates.db')
    const who = JSON.parse('"\\ud800x"') as string
    const store = await openStore(file)
    try {
      await store.write(record(groupSend('@lone', 1, { From_Account: who })))
      await store.write(record(groupSend('@lone', 2, { From_Account: 'someone else' })))
      const page = await store.listMessages({ from: who, limit: 10 })
      assert.equal(page.items.length, 1)
      assert.equal(page.items[0]!.From_Account, who) // the body, as received
      const db = openDatabase(file, { readOnly: true })
      const row = db.prepare("SELECT hex(from_account) AS h FROM messages WHERE group_id = '@lone' AND msg_seq = 1").get() as { h: string }
      db.close()
      assert.equal(row.h, 'EFBFBD78') // U+FFFD then "x", on every supported Node
      assert.equal(asStored(who), '\ufffdx')
      assert.equal(asStored('\ud83d\ude00\udc00'), '\ud83d\ude00\ufffd') // a pair is kept, a lone low half replaced
    } finally {
      await store.close()
    }
  })
})
