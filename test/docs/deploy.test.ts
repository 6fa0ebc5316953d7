/**
 * docs/deploy.md as written: its nginx configuration in front of `timhook serve` (a signed callback
 * through TLS is stored; the admin API is refused from outside the allowed network), its systemd
 * unit (`systemd-analyze verify`), and its SQLite backup commands run while `serve` writes.
 * What the machine lacks (nginx, systemd, openssl, sqlite3) is skipped with a message naming it.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sign } from '../../src/protocol/signature.js'
import { freePort, start, type Running } from '../helpers/process.js'
import { codeBlock, portOpen, runSession } from '../helpers/snippets.js'
import { ADMIN, APP, admin, groupAfterSend, postCallback, spawnServer, tempDir, type ChildServer } from '../server/helpers.js'

const doc = readFileSync('docs/deploy.md', 'utf8')
const has = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).error === undefined
const nginx =
  ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? (has('nginx', '-v') ? 'nginx' : undefined)
const openssl = has('openssl', 'version')
const systemdAnalyze = has('systemd-analyze', '--version')
const sqlite3 = has('sqlite3', '-version')

/** GET or POST over TLS, trusting only `ca`. */
function request(url: string, ca: Buffer, method: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, agent: false }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe(
  'docs/deploy.md: nginx in front of timhook serve',
  {
    skip:
      (!nginx && 'nginx is not installed (apt-get install nginx-light): the reverse-proxy configuration is not tested here') ||
      (!openssl && 'the openssl command is missing: it makes the test certificate'),
  },
  () => {
    const { dir, cleanup } = tempDir()
    let server: ChildServer
    let proxy: Running
    let proxyPort = 0
    let ca: Buffer

    before(async () => {
      const cert = join(dir, 'proxy.crt')
      const key = join(dir, 'proxy.key')
      const made = spawnSync(
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
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          key,
          '-out',
          cert,
        ],
        { encoding: 'utf8' },
      )
      assert.equal(made.status, 0, made.stderr)
      ca = readFileSync(cert)
      server = await spawnServer(['--token', 'proxy-token', '--db', join(dir, 'proxy.db'), '--admin-token', ADMIN])
      proxyPort = await freePort()
      // The doc's configuration; only its ports and certificate paths are the test's.
      const site = codeBlock(doc, '### Behind a reverse proxy (nginx)', 'nginx')
        .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${new URL(server.url).port};`)
        .replace(/listen 443 ssl;/, `listen 127.0.0.1:${proxyPort} ssl;`)
        .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${cert};`)
        .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${key};`)
      assert.match(site, new RegExp(`listen 127\\.0\\.0\\.1:${proxyPort} ssl;`))
      writeFileSync(join(dir, 'timhook.conf'), site)
      mkdirSync(join(dir, 'logs'))
      const root = process.getuid?.() === 0 ? 'user root;\n' : ''
      writeFileSync(
        join(dir, 'nginx.conf'),
        `${root}daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/logs/error.log warn;\nevents { worker_connections 64; }\n` +
          `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n  include ${dir}/timhook.conf;\n}\n`,
      )
      proxy = start(nginx!, ['-p', dir, '-c', join(dir, 'nginx.conf')])
      await portOpen(proxyPort, () => proxy.child.exitCode === null).catch((err: Error) =>
        assert.fail(`nginx: ${err.message}\n${proxy.output()}`),
      )
    })
    after(async () => {
      await proxy?.stop()
      server?.proc.kill('SIGTERM')
      await server?.exited
      cleanup()
    })

    it('a signed callback through nginx over TLS is answered by timhook and stored', async () => {
      const t = Math.floor(Date.now() / 1000)
      const body = groupAfterSend('@TGS#proxy', 7)
      const q = `SdkAppid=${APP}&CallbackCommand=${body.CallbackCommand}&contenttype=json&Sign=${sign('proxy-token', t)}&RequestTime=${t}`
      const res = await request(`https://127.0.0.1:${proxyPort}/?${q}`, ca, 'POST', JSON.stringify(body))
      assert.equal(res.status, 200)
      assert.deepEqual(JSON.parse(res.text), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
      const stored = await admin(server.url, '/api/messages?groupId=%40TGS%23proxy')
      assert.equal((stored.body.items as Array<{ MsgSeq: number }>)[0]?.MsgSeq, 7)
    })

    it("timhook's own refusal passes through (a wrong Sign: 401 with the FAIL envelope)", async () => {
      const t = Math.floor(Date.now() / 1000)
      const res = await request(
        `https://127.0.0.1:${proxyPort}/?SdkAppid=${APP}&CallbackCommand=Group.CallbackAfterSendMsg&Sign=${sign('wrong', t)}&RequestTime=${t}`,
        ca,
        'POST',
        '{}',
      )
      assert.equal(res.status, 401)
      assert.match(res.text, /TIMHOOK_SIGN_MISMATCH/)
    })

    it('the admin API and metrics are refused from outside the allowed network, even with the token', async () => {
      for (const path of ['/api/stats', '/metrics']) {
        const res = await request(`https://127.0.0.1:${proxyPort}${path}`, ca, 'GET')
        assert.equal(res.status, 403, path)
      }
      assert.equal((await admin(server.url, '/api/stats')).status, 200, 'the API itself works')
    })
  },
)

describe(
  'docs/deploy.md: the systemd unit',
  { skip: !systemdAnalyze && 'systemd-analyze is missing: the unit is not checked here' },
  () => {
    it('passes systemd-analyze verify without a warning', () => {
      const { dir, cleanup } = tempDir()
      try {
        // Only the node binary is this machine's, so that verify checks the unit and not the install.
        const unit = codeBlock(doc, '## systemd', 'ini').replace('ExecStart=/usr/bin/node', `ExecStart=${process.execPath}`)
        writeFileSync(join(dir, 'timhook.service'), unit)
        const r = spawnSync('systemd-analyze', ['verify', join(dir, 'timhook.service')], { encoding: 'utf8' })
        assert.equal(r.status, 0, r.stderr)
        assert.equal(r.stderr.trim(), '', 'no warning')
      } finally {
        cleanup()
      }
    })
  },
)

describe(
  'docs/deploy.md: SQLite backups while serve writes',
  { skip: !sqlite3 && 'the sqlite3 command is missing (apt-get install sqlite3)' },
  () => {
    it('the documented .backup, VACUUM INTO and integrity check give copies holding the stored callbacks', async () => {
      const { dir, cleanup } = tempDir()
      const server = await spawnServer(['--token', 'backup-token', '--db', join(dir, 'timhook.db')])
      try {
        for (let seq = 1; seq <= 20; seq++)
          assert.equal((await postCallback(server.url, groupAfterSend('@TGS#backup', seq), { token: 'backup-token' })).status, 200)
        const shell = codeBlock(doc, '## Backups', 'sh').replaceAll('/var/lib/timhook/', `${dir}/`).replaceAll('/backup/', `${dir}/backup-`)
        runSession(shell, { cwd: dir, cli: '' })
        const date = spawnSync('date', ['+%F'], { encoding: 'utf8' }).stdout.trim()
        for (const copy of [`backup-timhook-${date}.db`, `backup-timhook-${date}-compact.db`]) {
          const count = spawnSync('sqlite3', [join(dir, copy), 'SELECT count(*) FROM messages'], { encoding: 'utf8' })
          assert.equal(count.stdout.trim(), '20', `${copy}: ${count.stderr}`)
        }
      } finally {
        server.proc.kill('SIGTERM')
        await server.exited
        cleanup()
      }
    })
  },
)
