/** Reading a rules file: YAML or JSON (by extension; YAML also reads JSON), validated and compiled. */
import { readFileSync } from 'node:fs'
import { dirname, extname, resolve } from 'node:path'
import { parseDocument } from 'yaml'
import { createPolicy, type Policy, type PolicyOptions } from './create-policy.js'
import { PolicyError } from './policy-error.js'

/**
 * Loads, validates and compiles a rules file. Relative `keywordsFile` paths are resolved against
 * the file's directory. Synchronous: it runs at start-up and on reload, off the request path.
 * @throws PolicyError naming the line and column of a syntax error, or the rule index, field and problem.
 * @example
 * const policy = loadPolicyFile('examples/policy.yaml')
 * policy.decide(event) // { verdict, action, rule, reason, … }
 */
export function loadPolicyFile(path: string, options: Omit<PolicyOptions, 'source' | 'baseDir'> = {}): Policy {
  const full = resolve(path)
  let text: string
  try {
    text = readFileSync(full, 'utf8')
  } catch (err) {
    throw new PolicyError([{ path: '', message: `cannot read the file: ${(err as Error).message}` }], path)
  }
  return createPolicy(parsePolicyText(text, path), { ...options, source: path, baseDir: dirname(full) })
}

/** Parses the text of a rules file (JSON for `.json`, YAML otherwise). */
export function parsePolicyText(text: string, path: string): unknown {
  if (extname(path).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new PolicyError([{ path: '', message: `not valid JSON: ${(err as Error).message}` }], path)
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true })
  if (doc.errors.length > 0) {
    throw new PolicyError(
      doc.errors.map((e) => ({
        path: '',
        message: `not valid YAML${e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''}: ${e.message.split('\n')[0]}`,
      })),
      path,
    )
  }
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown
  if (data === null || data === undefined)
    throw new PolicyError([{ path: '', message: 'the file is empty; a policy needs at least `rules: []`' }], path)
  return data
}
