/** `timhook serve`'s flags come from the configuration's one list of fields: each field has a flag, an environment variable and help. */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { Command } from 'commander'
import fc from 'fast-check'
import { addConfigOptions, configOf } from '../../src/cli/config-options.js'
import { CONFIG_FIELDS, configSchema, FLAGS } from '../../src/server/config.js'
import { tempDir } from '../server/helpers.js'

function serveCommand(): Command {
  return addConfigOptions(new Command('serve').exitOverride())
}
const parse = (argv: string[]) => serveCommand().parse(argv, { from: 'user' }).opts()

describe('timhook serve flags', () => {
  it('every configuration field has one flag and one environment variable, and the flag parses back to its field', () => {
    assert.deepEqual(
      FLAGS.map((f) => f.field),
      Object.keys(configSchema.shape),
    )
    assert.equal(new Set(FLAGS.map((f) => f.flag)).size, CONFIG_FIELDS.length)
    assert.equal(new Set(FLAGS.map((f) => f.env)).size, CONFIG_FIELDS.length)
    const options = serveCommand().options
    for (const f of FLAGS) {
      assert.match(f.env, /^TIMHOOK_[A-Z0-9_]+$/)
      const option = options.find((o) => o.long === f.flag)
      assert.ok(option, `${f.field} has ${f.flag}`)
      assert.equal(option.attributeName(), f.field, `${f.flag} sets ${f.field}`)
      assert.equal(option.isBoolean(), f.switch, `${f.flag} takes a value unless ${f.field} is a boolean`)
      assert.ok(f.help.length > 0)
    }
    assert.deepEqual(
      FLAGS.filter((f) => f.switch).map((f) => f.field),
      ['strict'],
    )
    assert.deepEqual(
      FLAGS.filter((f) => f.repeatable).map((f) => f.field),
      ['sdkAppId', 'token'],
    )
  })

  it('help lists every flag with its environment variable and its default', () => {
    const help = serveCommand().helpInformation({ error: false }).replace(/\s+/g, ' ')
    for (const f of FLAGS) {
      assert.ok(help.includes(f.flag), f.flag)
      assert.ok(help.includes(f.env), f.env)
      if (typeof f.default === 'number' || typeof f.default === 'string')
        assert.ok(help.includes(`default ${f.default};`), `${f.flag} default`)
    }
    assert.ok(help.includes('--sdk-app-id <id>'))
    assert.ok(help.includes('(required; env TIMHOOK_SDK_APP_ID)'))
  })

  it('a switch, a repeated flag and a JSON list arrive as the configuration', () => {
    const opts = parse(['--sdk-app-id', '1400000000', '--sdk-app-id', '1400000001,1400000002', '--strict', '-p', '0', '--sinks', '[]'])
    const config = configOf(opts, {})
    assert.deepEqual(config.sdkAppId, ['1400000000', '1400000001', '1400000002'])
    assert.equal(config.strict, true)
    assert.equal(config.port, 0)
    assert.deepEqual(config.sinks, [])
    assert.equal(configOf(parse(['--sdk-app-id', '1']), {}).strict, false)
    assert.throws(() => configOf(parse(['--sdk-app-id', '1', '--sinks', '[{']), {}), /sinks \(from --sinks\): not valid JSON/)
  })

  it('a flag beats the environment, the environment beats the file, the file beats the default (property)', () => {
    const t = tempDir()
    try {
      const file = `${t.dir}/c.yaml`
      const port = fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined })
      fc.assert(
        fc.property(port, port, port, (inFile, inEnv, inFlag) => {
          writeFileSync(file, `sdkAppId: 1400000000\n${inFile === undefined ? '' : `port: ${inFile}\n`}`)
          const argv = ['--config', file, ...(inFlag === undefined ? [] : ['--port', String(inFlag)])]
          const env = inEnv === undefined ? {} : { TIMHOOK_PORT: String(inEnv) }
          assert.equal(configOf(parse(argv), env).port, inFlag ?? inEnv ?? inFile ?? 8080)
        }),
        { numRuns: 60 },
      )
      // The config file itself may come from the environment.
      writeFileSync(file, 'sdkAppId: 1400000000\nhost: 0.0.0.0\n')
      assert.equal(configOf(parse([]), { TIMHOOK_CONFIG: file }).host, '0.0.0.0')
    } finally {
      t.cleanup()
    }
  })

  it("docs/server.md's table has every field with its flag, environment variable and default", () => {
    const doc = readFileSync('docs/server.md', 'utf8')
    for (const f of FLAGS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${f.field}\` |`))
      assert.ok(row, `a row for ${f.field}`)
      const cells = row.split(' | ')
      assert.ok(cells[1]!.includes(`\`${f.flag}\``), `${f.field}: ${f.flag}`)
      if (f.short !== undefined) assert.ok(cells[1]!.includes(`\`${f.short}\``), `${f.field}: ${f.short}`)
      assert.ok(cells[2]!.includes(`\`${f.env}\``), `${f.field}: ${f.env}`)
      if (typeof f.default === 'number' || typeof f.default === 'string' || typeof f.default === 'boolean')
        assert.ok(cells[3]!.includes(`\`${String(f.default)}\``), `${f.field}: default ${String(f.default)}`)
    }
  })
})
