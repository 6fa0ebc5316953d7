/**
 * PostgreSQL stopped mid-run, against a real server: after-callbacks get FAIL (never a false 200),
 * /readyz turns false, and timhook recovers without a restart when PostgreSQL returns.
 * The test runs a PostgreSQL instance of its own (initdb into a temp dir) so that stopping it
 * cannot disturb other tests using the shared one at TIMHOOK_TEST_PG_URL.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { RunningServer } from '../../src/server/start-server.js'
import { ADMIN, groupAfterSend, groupBeforeSend, postCallback, startTestServer } from './helpers.js'

const CTL = process.env.TIMHOOK_TEST_PG_CTL
const SKIP =
  process.env.TIMHOOK_TEST_PG_URL && CTL
    ? false
    : 'TIMHOOK_TEST_PG_URL / TIMHOOK_TEST_PG_CTL are not set (eval "$(scripts/pg-test-server.sh start)")'

/** `runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D …` → the prefix to run as postgres, and the bin directory. */
function pgTools(): { prefix: string[]; bin: string } {
  const parts = CTL!.trim().split(/\s+/)
  const i = parts.findIndex((p) => p.endsWith('/pg_ctl'))
  return { prefix: parts.slice(0, i), bin: parts[i]!.slice(0, -'/pg_ctl'.length) }
}

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((resolve) => srv.close(resolve))
  return port
}

describe('PostgreSQL outage', { skip: SKIP }, () => {
  let dir: string
  let port: number
  let server: RunningServer
  const run = (tool: string, args: string[]) => {
    const { prefix, bin } = pgTools()
    const argv = [...prefix, `${bin}/${tool}`, ...args]
    return execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).toString()
  }
  const pgStart = () =>
    run('pg_ctl', ['-D', dir, '-l', `${dir}/server.log`, '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start'])
  const pgStop = () => run('pg_ctl', ['-D', dir, '-m', 'fast', '-w', 'stop'])

  before(async () => {
    dir = mkdtempSync('/tmp/timhook-pg-outage-')
    if (pgTools().prefix.length > 0) execFileSync('chown', ['postgres', dir])
    port = await freePort()
    run('initdb', ['-D', `${dir}/data`, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'])
    dir = `${dir}/data`
    pgStart()
    server = await startTestServer({ db: `postgres://postgres@127.0.0.1:${port}/postgres`, pgSchema: 'outage' })
  })

  after(async () => {
    await server?.close()
    try {
      run('pg_ctl', ['-D', dir, '-m', 'immediate', 'stop'])
    } catch {
      // already stopped
    }
    rmSync(dir.replace(/\/data$/, ''), { recursive: true, force: true })
  })

  it('answers FAIL while PostgreSQL is down, reports not ready, and recovers when it returns', async () => {
    const acked: number[] = []
    const ok = await postCallback(server.url, groupAfterSend('outage', 1))
    assert.equal(ok.status, 200)
    acked.push(1)

    pgStop()
    for (let seq = 2; seq <= 6; seq++) {
      const res = await postCallback(server.url, groupAfterSend('outage', seq))
      assert.notEqual(res.status, 200, `MsgSeq ${seq} got a 200 while PostgreSQL was down`)
      assert.equal(res.answer.ActionStatus, 'FAIL')
      assert.match(String(res.answer.ErrorInfo), /TIMHOOK_ACK_FAILED/)
    }
    // A before-send answer never waits for the database: it is answered, and its record is kept for later.
    const before = await postCallback(server.url, groupBeforeSend('outage', 4242))
    assert.deepEqual([before.status, before.answer.ErrorCode], [200, 0])
    const notReady = await fetch(`${server.url}/readyz`)
    assert.equal(notReady.status, 503)
    assert.equal(((await notReady.json()) as { ready: boolean }).ready, false)
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
    assert.match(metrics, /timhook_callbacks_total\{command="Group.CallbackAfterSendMsg",outcome="failed"\} 5/)

    pgStart()
    let ready = false
    for (let i = 0; i < 100 && !ready; i++) {
      const res = await fetch(`${server.url}/readyz`)
      ready = res.status === 200
      await res.body?.cancel()
      if (!ready) await new Promise((r) => setTimeout(r, 100))
    }
    assert.ok(ready, '/readyz did not turn true after PostgreSQL came back')
    const again = await postCallback(server.url, groupAfterSend('outage', 7))
    assert.equal(again.status, 200)
    acked.push(7)
    await server.store.flush()

    const stored = await server.store.listMessages({ groupId: 'outage', limit: 100 })
    for (const seq of acked)
      assert.ok(
        stored.items.some((m) => m.MsgSeq === seq),
        `acknowledged MsgSeq ${seq} is missing`,
      )
    const befores = await server.store.listEvents({ command: 'Group.CallbackBeforeSendMsg', limit: 10 })
    assert.equal(befores.items.length, 1, 'the before-send record kept during the outage was not committed afterwards')
  })
})
