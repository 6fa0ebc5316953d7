/**
 * The packed package in a TypeScript project with `module: esnext` + `moduleResolution: bundler`
 * (what Vite, Next.js and esbuild users set), strict + exactOptionalPropertyTypes +
 * skipLibCheck: false, with and without the optional peer fastify. Its own file so that each
 * project stays well inside the test runner's per-file time limit; nodenext: consumer.test.ts.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { compile, packedProject, removeProject, skip, withFastify } from './project.js'

describe('the packed package in a TypeScript project (module bundler)', { skip }, () => {
  let dir = ''
  before(() => (dir = packedProject()))
  after(() => removeProject(dir))

  it('compiles without fastify installed', async () => {
    assert.equal(existsSync(join(dir, 'node_modules/fastify')), false)
    await compile(dir, 'bundler', ['readme.mjs', 'fetch.ts'])
  })

  // The other examples import nothing of fastify's: compiled above, they need no second pass here.
  it('compiles with fastify installed', async () => {
    await withFastify(dir, () => compile(dir, 'bundler', ['fastify.ts']))
  })
})
