/**
 * `timhook serve --tls-cert --tls-key`: HTTPS straight from Node with a self-signed certificate
 * made here (openssl), the certificate and key read again on SIGHUP (new connections get the new
 * one; a broken file keeps the old one and says why), and start-up errors naming the file.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import { join } from 'node:path'
import tls from 'node:tls'
import { after, before, describe, it } from 'node:test'
import { sign } from '../../src/protocol/signature.js'
import { APP, groupAfterSend, selfSigned, spawnServer, tempDir, type ChildServer } from './helpers.js'

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0

/** The fingerprint of the certificate a new TLS connection to `port` is served. */
async function servedFingerprint(port: number): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject))
  const fingerprint = socket.getPeerCertificate().fingerprint256
  socket.destroy()
  return fingerprint
}

/** A signed after-send over HTTPS, trusting only `ca`. */
function postOverTls(url: string, ca: Buffer, body: Record<string, unknown>): Promise<{ status: number; answer: Record<string, unknown> }> {
  const t = Math.floor(Date.now() / 1000)
  const q = new URLSearchParams({
    SdkAppid: APP,
    CallbackCommand: String(body.CallbackCommand),
    contenttype: 'json',
    Sign: sign('tls-token', t),
    RequestTime: String(t),
  })
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/?${q}`, { method: 'POST', ca, agent: false }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, answer: JSON.parse(text) as Record<string, unknown> }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

describe('timhook serve over TLS', { skip: !openssl && 'the openssl command is missing: it makes the test certificates' }, () => {
  const { dir, cleanup } = tempDir()
  let first: ReturnType<typeof selfSigned>
  let second: ReturnType<typeof selfSigned>
  let server: ChildServer
  const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') }

  before(async () => {
    first = selfSigned(dir, 'first')
    second = selfSigned(dir, 'second')
    copyFileSync(first.cert, live.cert)
    copyFileSync(first.key, live.key)
    server = await spawnServer(['--token', 'tls-token', '--db', join(dir, 'tls.db'), '--tls-cert', live.cert, '--tls-key', live.key])
  })
  after(async () => {
    server?.proc.kill('SIGTERM')
    await server?.exited
    cleanup()
  })

  it('serves HTTPS: the banner says https, a signed callback over TLS is stored', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const { status, answer } = await postOverTls(server.url, readFileSync(first.cert), groupAfterSend('@TGS#tls', 1))
    assert.equal(status, 200)
    assert.equal(answer.ErrorCode, 0)
    assert.equal(await servedFingerprint(Number(new URL(server.url).port)), first.fingerprint)
  })

  it('plain HTTP on the TLS port gets no answer as if it were a callback', async () => {
    const res = await fetch(server.url.replace('https:', 'http:') + '/healthz').catch((err: Error) => err)
    assert.ok(res instanceof Error || res.status === 400, 'no plain-HTTP service on the TLS port')
  })

  it('reloads the certificate and key on SIGHUP: new connections get the new certificate', async () => {
    const port = Number(new URL(server.url).port)
    copyFileSync(second.cert, live.cert)
    copyFileSync(second.key, live.key)
    const reloads = server.lines.filter((l) => l.msg === 'TLS certificate and key reloaded').length
    server.proc.kill('SIGHUP')
    await server.waitForLog(
      (l) => l.msg === 'TLS certificate and key reloaded' && server.lines.filter((x) => x.msg === l.msg).length > reloads,
    )
    assert.equal(await servedFingerprint(port), second.fingerprint)
    const { status } = await postOverTls(server.url, readFileSync(second.cert), groupAfterSend('@TGS#tls', 2))
    assert.equal(status, 200)
  })

  it('a reload that fails keeps the certificate in use and logs why', async () => {
    const port = Number(new URL(server.url).port)
    writeFileSync(live.cert, 'not a certificate\n')
    server.proc.kill('SIGHUP')
    const line = await server.waitForLog((l) => l.msg === 'TLS reload failed; the previous certificate stays in use')
    assert.match(String(line.err), /live\.crt/)
    assert.equal(await servedFingerprint(port), second.fingerprint)
  })
})

describe('timhook serve: TLS start-up errors name the cause', { skip: !openssl && 'the openssl command is missing' }, () => {
  const { dir, cleanup } = tempDir()
  after(cleanup)

  const serveExit = async (args: string[]) => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx/esm', 'src/cli/main.ts', 'serve', '--port', '0', '--sdk-app-id', APP, '--db', join(dir, 'x.db'), ...args],
      { encoding: 'utf8' },
    )
    return { code: r.status, stderr: r.stderr }
  }

  it('a certificate without its key, a missing file, a key of another certificate: exit 2, the cause named', async () => {
    const a = selfSigned(dir, 'a')
    const b = selfSigned(dir, 'b')
    const noKey = await serveExit(['--tls-cert', a.cert])
    assert.equal(noKey.code, 2)
    assert.match(noKey.stderr, /tlsKey: required with tlsCert \(from --tls-cert\); set both --tls-cert and --tls-key/)
    const missing = await serveExit(['--tls-cert', join(dir, 'nope.crt'), '--tls-key', a.key])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /tlsCert: cannot read .*nope\.crt/)
    const mismatch = await serveExit(['--tls-cert', a.cert, '--tls-key', b.key])
    assert.equal(mismatch.code, 2)
    assert.match(mismatch.stderr, /a\.crt and .*b\.key are not a PEM certificate and its private key/)
  })
})
