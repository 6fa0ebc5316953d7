/** Configuration: sources, precedence, and errors that name the field and where its value came from. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ConfigError, loadConfig } from '../../src/server/config.js'
import { tempDir } from './helpers.js'

describe('config', () => {
  it('applies defaults', () => {
    const c = loadConfig({ flags: { sdkAppId: ['1400000000'] } })
    assert.deepEqual([c.port, c.host, c.db, c.deadlineMs, c.token], [8080, '127.0.0.1', './timhook.db', 1500, undefined])
  })

  it('reads a YAML or JSON file; environment beats the file; flags beat both', () => {
    const t = tempDir()
    try {
      writeFileSync(`${t.dir}/c.yaml`, 'sdkAppId: 1400000000\nport: 9000\nhost: 127.0.0.1\ntoken: [a, b]\n')
      writeFileSync(`${t.dir}/c.json`, JSON.stringify({ sdkAppId: '1400000001', port: 9001 }))
      assert.deepEqual(loadConfig({ file: `${t.dir}/c.yaml` }).token, ['a', 'b'])
      assert.equal(loadConfig({ file: `${t.dir}/c.json` }).sdkAppId[0], '1400000001')
      const env = { TIMHOOK_PORT: '9100', TIMHOOK_TOKEN: 'x,y', TIMHOOK_CONFIG: `${t.dir}/c.yaml` }
      assert.deepEqual([loadConfig({ env }).port, loadConfig({ env }).token], [9100, ['x', 'y']])
      assert.equal(loadConfig({ env, flags: { port: '9200' } }).port, 9200)
      assert.deepEqual(loadConfig({ env, flags: { token: ['p,q', 'r'] } }).token, ['p', 'q', 'r'])
    } finally {
      t.cleanup()
    }
  })

  it('names the field and its source in every error', () => {
    const t = tempDir()
    try {
      writeFileSync(`${t.dir}/bad.yaml`, 'sdkAppId: 1400000000\nprot: 80\n')
      const cases: Array<[Parameters<typeof loadConfig>[0], RegExp]> = [
        [{ flags: { port: '99999', sdkAppId: ['1'] } }, /port \(from --port\)/],
        [{ env: { TIMHOOK_PORT: 'eighty', TIMHOOK_SDK_APP_ID: '1' } }, /port \(from TIMHOOK_PORT\)/],
        [{ env: { TIMHOOK_SDK_APP_ID: 'abc' } }, /sdkAppId \(from TIMHOOK_SDK_APP_ID\): expected a numeric SDKAppID/],
        [{}, /sdkAppId: required; set --sdk-app-id, TIMHOOK_SDK_APP_ID/],
        [{ file: `${t.dir}/bad.yaml` }, /prot \(in .*bad\.yaml\): unknown field/],
        [{ flags: { sdkAppId: ['1'], adminToken: 'short' } }, /adminToken \(from --admin-token\): use at least 16 characters/],
        [{ flags: { sdkAppId: ['1'], deadlineMs: '2000' } }, /deadlineMs \(from --deadline-ms\)/],
        [{ flags: { sdkAppId: ['1'], callbackPath: 'no-slash' } }, /callbackPath/],
        [{ file: `${t.dir}/missing.yaml` }, /cannot read the config file/],
      ]
      for (const [sources, message] of cases)
        assert.throws(
          () => loadConfig(sources),
          (err: unknown) => err instanceof ConfigError && message.test(err.message),
        )
      writeFileSync(`${t.dir}/list.yaml`, '- 1\n- 2\n')
      assert.throws(() => loadConfig({ file: `${t.dir}/list.yaml` }), /must hold an object/)
      writeFileSync(`${t.dir}/broken.json`, '{ "port": ')
      assert.throws(() => loadConfig({ file: `${t.dir}/broken.json` }), /not valid YAML or JSON/)
    } finally {
      t.cleanup()
    }
  })

  it('either accepts an environment or throws a ConfigError, whatever the values (property)', () => {
    const fields = [
      'TIMHOOK_PORT',
      'TIMHOOK_SDK_APP_ID',
      'TIMHOOK_TOKEN',
      'TIMHOOK_DEADLINE_MS',
      'TIMHOOK_STRICT',
      'TIMHOOK_LOG_LEVEL',
      'TIMHOOK_BODY_LIMIT',
    ]
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...fields), fc.string({ maxLength: 20 })), (env) => {
        try {
          const c = loadConfig({ env })
          assert.ok(Number.isInteger(c.port) && c.sdkAppId.length > 0)
        } catch (err) {
          assert.ok(err instanceof ConfigError, String(err))
        }
      }),
    )
  })

  it('takes the SQLite reader threads from the environment, defaulting to none set (the store derives it from the cores)', () => {
    assert.equal(loadConfig({ env: { TIMHOOK_SDK_APP_ID: '1400000000' } }).adminReaders, undefined)
    assert.equal(loadConfig({ env: { TIMHOOK_SDK_APP_ID: '1400000000', TIMHOOK_ADMIN_READERS: '3' } }).adminReaders, 3)
    assert.throws(
      () => loadConfig({ env: { TIMHOOK_SDK_APP_ID: '1400000000', TIMHOOK_ADMIN_READERS: '0' } }),
      (err: unknown) => err instanceof ConfigError && /adminReaders \(from TIMHOOK_ADMIN_READERS\)/.test(err.message),
    )
  })
})
