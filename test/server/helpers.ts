/** Starting `timhook serve` for tests: in-process (fast) or as a child process (for signals and kill -9). */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { sign } from '../../src/protocol/signature.js'
import { configSchema, type ServerConfig } from '../../src/server/config.js'
import { createLogger } from '../../src/server/logger.js'
import { startServer, type RunningServer } from '../../src/server/start-server.js'

export const APP = '1400000000'
export const ADMIN = 'admin-token-for-tests-0123456789'
const ROOT = new URL('../../', import.meta.url).pathname

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'timhook-server-'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A config with test defaults (port 0, silent logs), validated like the CLI's. */
export function testConfig(overrides: Partial<Record<keyof ServerConfig, unknown>>): ServerConfig {
  return configSchema.parse({ sdkAppId: APP, port: 0, adminToken: ADMIN, logLevel: 'silent', ...overrides })
}

/** Log lines captured from an in-process server. */
export function captureLogs(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { lines, stream }
}

export async function startTestServer(
  overrides: Partial<Record<keyof ServerConfig, unknown>> = {},
  logStream?: Writable,
): Promise<RunningServer> {
  const config = testConfig(overrides)
  return startServer(config, logStream === undefined ? {} : { logger: createLogger(logStream ? 'debug' : 'silent', logStream) })
}

export interface PostOptions {
  token?: string
  sdkAppId?: string
  path?: string
  extra?: Record<string, string>
}

/** POSTs a callback the way Tencent does. */
export async function postCallback(
  url: string,
  body: Record<string, unknown>,
  opts: PostOptions = {},
): Promise<{ status: number; answer: Record<string, unknown> }> {
  const q = new URLSearchParams({
    SdkAppid: opts.sdkAppId ?? APP,
    CallbackCommand: String(body.CallbackCommand),
    contenttype: 'json',
    ClientIP: '203.0.113.9',
    OptPlatform: 'Android',
    ...opts.extra,
  })
  if (opts.token !== undefined) {
    const t = Math.floor(Date.now() / 1000)
    q.set('Sign', sign(opts.token, t))
    q.set('RequestTime', String(t))
  }
  const res = await fetch(`${url}${opts.path ?? '/'}?${q}`, { method: 'POST', body: JSON.stringify(body) })
  return { status: res.status, answer: (await res.json()) as Record<string, unknown> }
}

export async function admin(
  url: string,
  path: string,
  token: string | null = ADMIN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

export interface ChildServer {
  proc: ChildProcess
  url: string
  lines: Array<Record<string, unknown>>
  /** Resolves with the first log line (already seen or to come) that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs `timhook serve` (the CLI, through tsx) as a child process on an ephemeral port. */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<ChildServer> {
  // tsx/esm, not tsx: tsx's preflight turns SIGINT into an exit by signal, hiding the server's own handler.
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx/esm', join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--sdk-app-id', APP, ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = []
  let stderr = ''
  let buffered = ''
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8')
    let nl: number
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const text = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      if (text.trim() === '') continue
      let line: Record<string, unknown>
      try {
        line = JSON.parse(text) as Record<string, unknown>
      } catch {
        line = { msg: text }
      }
      lines.push(line)
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(line)
        }
      }
    }
  })
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000) => {
    const seen = lines.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.slice(0, 500)}`)),
        timeoutMs,
      )
      const w = {
        match,
        resolve: (l: Record<string, unknown>) => {
          clearTimeout(t)
          resolve(l)
        },
      }
      waiters.push(w)
      void exited.then(() => {
        clearTimeout(t)
        if (waiters.includes(w)) reject(new Error(`the server exited; stderr: ${stderr.slice(0, 1000)}`))
      })
    })
  }
  let listening: Record<string, unknown>
  try {
    listening = await waitForLog((l) => typeof l.url === 'string' && typeof l.storage === 'string')
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  }
  return { proc, url: String(listening.url), lines, waitForLog, exited }
}

export const groupAfterSend = (groupId: string, msgSeq: number, text = `message ${msgSeq}`) => ({
  CallbackCommand: 'Group.CallbackAfterSendMsg',
  GroupId: groupId,
  Type: 'Public',
  From_Account: 'alice',
  Operator_Account: 'alice',
  Random: 500 + msgSeq,
  MsgSeq: msgSeq,
  MsgTime: 1_700_000_000,
  OnlineOnlyFlag: 0,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
  EventTime: 1_700_000_000_000,
})

export const groupBeforeSend = (groupId: string, random: number, text = 'hello') => ({
  CallbackCommand: 'Group.CallbackBeforeSendMsg',
  GroupId: groupId,
  Type: 'Public',
  From_Account: 'alice',
  Operator_Account: 'alice',
  Random: random,
  OnlineOnlyFlag: 0,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
  EventTime: 1_700_000_000_000,
})

export const groupRecall = (groupId: string, seqs: number[]) => ({
  CallbackCommand: 'Group.CallbackAfterRecallMsg',
  Operator_Account: 'moderator',
  Type: 'Public',
  GroupId: groupId,
  MsgSeqList: seqs.map((MsgSeq) => ({ MsgSeq })),
  EventTime: 1_700_000_500_000,
})

/** A self-signed certificate for localhost and 127.0.0.1, with its key: two PEM files. */
export function selfSigned(dir: string, name: string): { cert: string; key: string; fingerprint: string } {
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  )
  assert.equal(r.status, 0, r.stderr)
  return { cert, key, fingerprint: new X509Certificate(readFileSync(cert)).fingerprint256 }
}
