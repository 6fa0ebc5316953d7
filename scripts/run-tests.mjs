#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (TypeScript through tsx).
// The files are listed here (not a --test glob) so that filters can pick them by path substring. A test that hangs fails
// after 2 minutes (--test-timeout) instead of holding CI until its limit.
// Usage: node scripts/run-tests.mjs [--coverage] [filter ...]   (filters match path substrings)
// --coverage (`npm run coverage`): Node's built-in coverage of src/ (generated code excluded),
// printed after the results: line, branch and function percentages per file.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  )
}

const coverage = process.argv.includes('--coverage')
const filters = process.argv.slice(2).filter((a) => a !== '--coverage')
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`)
  process.exit(1)
}
const reporter = process.env.TEST_REPORTER ?? 'spec'
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-reporter=${reporter}`,
    '--test-concurrency=2',
    '--test-timeout=120000',
    ...(coverage
      ? [
          '--enable-source-maps',
          '--experimental-test-coverage',
          '--test-coverage-include=src/**',
          '--test-coverage-exclude=src/protocol/generated/**',
        ]
      : []),
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
)
process.exit(result.status ?? 1)
