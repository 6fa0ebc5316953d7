/**
 * Sink tests against real servers: Redis and NATS started by scripts/sink-test-servers.sh (they
 * skip, naming what is missing, without them), a local HTTP server for webhooks. Consumers read
 * what each server holds; `tally` counts acknowledged, delivered, duplicates, out of order, lost.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createClient } from '@redis/client'
import pg from 'pg'
import type { SinkEnvelope } from '../../src/sinks/envelope.js'
import { verifyWebhook } from '../../src/sinks/signature.js'
import { openDatabase } from '../../src/store/sqlite-driver.js'
import { freePort } from '../helpers/process.js'
import { callbackKeys } from '../../src/protocol/idempotency-key.js'
import { ADMIN, postCallback } from '../server/helpers.js'

export const REDIS_URL = process.env.TIMHOOK_TEST_REDIS_URL
export const NATS_URL = process.env.TIMHOOK_TEST_NATS_URL
export const SINK_CTL = process.env.TIMHOOK_TEST_SINK_CTL
const START = 'eval "$(scripts/sink-test-servers.sh start)"'
export const REDIS_SKIP = REDIS_URL ? false : `TIMHOOK_TEST_REDIS_URL is not set (${START})`
export const NATS_SKIP = NATS_URL ? false : `TIMHOOK_TEST_NATS_URL is not set (${START})`
export const CTL_SKIP = SINK_CTL ? false : `TIMHOOK_TEST_SINK_CTL is not set (${START})`
/** How long the outage tests keep a sink server down: 3 s by default, TIMHOOK_TEST_SINK_OUTAGE_MS=30000 for the full run. */
export const OUTAGE_MS = Number(process.env.TIMHOOK_TEST_SINK_OUTAGE_MS ?? 3000)

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

export const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`

/**
 * A Redis and a NATS server of the test's own (own ports and data directory, started by the same
 * script), for tests that stop them: the shared ones other tests use are never disturbed.
 */
export async function privateSinkServers() {
  const dir = mkdtempSync(join(tmpdir(), 'timhook-sinks-'))
  const env = {
    ...process.env,
    TIMHOOK_SINK_DATA: dir,
    TIMHOOK_REDIS_PORT: String(await freePort()),
    TIMHOOK_NATS_PORT: String(await freePort()),
  }
  const ctl = (action: string) => execFileSync(SINK_CTL!, [action], { env, encoding: 'utf8' })
  const out = ctl('start')
  const url = (name: string) => new RegExp(`${name}=(\\S+)`).exec(out)?.[1]
  const redis = url('TIMHOOK_TEST_REDIS_URL')
  const nats = url('TIMHOOK_TEST_NATS_URL')
  if (redis === undefined || nats === undefined) throw new Error(`the sink test servers did not start:\n${out}`)
  return {
    redis,
    nats,
    ctl: (action: 'stop-redis' | 'start-redis' | 'stop-nats' | 'start-nats') => void ctl(action),
    close: () => {
      ctl('stop')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Polls `check` until it returns true (what it waits for is a state the test cannot be told about), failing after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Every envelope of a Redis stream, in stream order, with the entry's `command` field. */
export async function readRedisStream(url: string, stream: string): Promise<Array<SinkEnvelope & { field: string }>> {
  const c = createClient({ url })
  c.on('error', () => {})
  await c.connect()
  try {
    const entries = await c.xRange(stream, '-', '+')
    return (entries ?? []).map((e) => ({ ...(JSON.parse(String(e.message.event)) as SinkEnvelope), field: String(e.message.command) }))
  } finally {
    await c.close()
  }
}

/** Every message of a JetStream stream, in stream order, with its subject and Nats-Msg-Id (read with an ordered consumer). */
export async function readNatsStream(
  url: string,
  stream: string,
): Promise<Array<SinkEnvelope & { subject: string; msgId: string | undefined }>> {
  const nc = await connect({ servers: url })
  try {
    const jsm = await jetstreamManager(nc)
    let total: number
    try {
      total = (await jsm.streams.info(stream)).state.messages
    } catch {
      return []
    }
    const out: Array<SinkEnvelope & { subject: string; msgId: string | undefined }> = []
    if (total === 0) return out
    const consumer = await jetstream(nc).consumers.get(stream)
    while (out.length < total) {
      const before = out.length
      for await (const m of await consumer.fetch({ max_messages: total - out.length, expires: 2000 })) {
        out.push({ ...m.json<SinkEnvelope>(), subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') || undefined })
      }
      if (out.length === before) break
    }
    return out
  } finally {
    await nc.close()
  }
}

export async function deleteNatsStream(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url })
  try {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.delete(stream).catch(() => false)
  } finally {
    await nc.close()
  }
}

export async function deleteRedisKey(url: string, key: string): Promise<void> {
  const c = createClient({ url })
  c.on('error', () => {})
  await c.connect()
  await c.del(key)
  await c.close()
}

export interface WebhookHit {
  envelope: SinkEnvelope
  headers: http.IncomingHttpHeaders
  /** The webhook-id header, checked against the signature. */
  id: string
  status: number
}

/**
 * A local webhook endpoint: verifies every request's signature (a request that does not verify is
 * answered 401 and recorded as a failure of the test), answers what `respond` says.
 */
export async function webhookEndpoint(
  respond: (envelope: SinkEnvelope, attempt: number) => number | { status: number; headers?: Record<string, string> } = () => 200,
) {
  const hits: WebhookHit[] = []
  const attempts = new Map<string, number>()
  const badSignatures: string[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      let id: string
      try {
        id = verifyWebhook(SECRET, req.headers, body)
      } catch (err) {
        badSignatures.push((err as Error).message)
        res.writeHead(401).end()
        return
      }
      const envelope = JSON.parse(body.toString('utf8')) as SinkEnvelope
      const attempt = (attempts.get(envelope.key) ?? 0) + 1
      attempts.set(envelope.key, attempt)
      const answer = respond(envelope, attempt)
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer
      hits.push({ envelope, headers: req.headers, id, status })
      res.writeHead(status, headers).end(status < 300 ? 'ok' : 'no')
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    badSignatures,
    /** Envelopes answered 2xx, in arrival order. */
    delivered: () => hits.filter((h) => h.status < 300).map((h) => h.envelope),
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

/** The store's delivery order: event id → rank (SQLite: id order; PostgreSQL: (xid, id)). */
export async function deliveryRanks(db: string, schema?: string): Promise<Map<number, number>> {
  let ids: number[]
  if (/^postgres/.test(db)) {
    const c = new pg.Client({ connectionString: db, options: `-c search_path=${schema ?? 'public'}` })
    await c.connect()
    try {
      ids = (await c.query<{ id: string }>('SELECT id FROM events ORDER BY xid, id')).rows.map((r) => Number(r.id))
    } finally {
      await c.end()
    }
  } else {
    const d = openDatabase(db, { readOnly: true, busyTimeoutMs: 5000 })
    try {
      ids = (d.prepare('SELECT id FROM events ORDER BY id').all() as Array<{ id: number }>).map((r) => Number(r.id))
    } finally {
      d.close()
    }
  }
  return new Map(ids.map((id, rank) => [id, rank]))
}

export interface Tally {
  acknowledged: number
  delivered: number
  duplicates: number
  outOfOrder: number
  lost: number
}

/**
 * Counts what a sink received against what was acknowledged: `acked` are the keys answered 200;
 * `received` the envelopes in arrival order. Out of order: a first arrival whose place in the
 * store's delivery order is before the previous first arrival's.
 */
export function tally(acked: Iterable<string>, received: readonly SinkEnvelope[], ranks: Map<number, number>): Tally {
  const seen = new Set<string>()
  let outOfOrder = 0
  let last = -1
  for (const e of received) {
    if (seen.has(e.key)) continue
    seen.add(e.key)
    const rank = ranks.get(e.id)
    if (rank === undefined) throw new Error(`delivered event id ${e.id} is not in the store`)
    if (rank < last) outOfOrder++
    last = rank
  }
  const ackedSet = new Set(acked)
  let lost = 0
  for (const k of ackedSet) if (!seen.has(k)) lost++
  return { acknowledged: ackedSet.size, delivered: received.length, duplicates: received.length - seen.size, outOfOrder, lost }
}

export const keyOf = (body: Record<string, unknown>) =>
  callbackKeys(String(body.CallbackCommand), body, Buffer.from(JSON.stringify(body))).event

/** Posts the bodies, `workers` at a time; resolves to the keys answered 200 (acknowledged). Requests that fail (server gone) are not. */
export async function postAll(
  url: string,
  bodies: ReadonlyArray<Record<string, unknown>>,
  workers = 8,
  onAck?: (key: string) => void,
): Promise<string[]> {
  const acked: string[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!
        try {
          const res = await postCallback(url, body)
          if (res.status === 200) {
            acked.push(keyOf(body))
            onAck?.(keyOf(body))
          }
        } catch {
          // the server went away mid-request: not acknowledged
        }
      }
    }),
  )
  return acked
}

/** One sample of a metric from /metrics (0 when absent). */
export async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

export async function api(url: string, path: string, method = 'GET', token: string | null = ADMIN) {
  const res = await fetch(`${url}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of several shapes, checked by each test
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}
