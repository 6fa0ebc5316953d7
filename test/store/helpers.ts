/** Records and stores for the store tests: each backend opened fresh, and removed afterwards. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { CallbackRecord, DecisionRecord } from '../../src/store/records.js'
import type { StoreOptions } from '../../src/store/create-store.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'

export const PG_URL = process.env.TIMHOOK_TEST_PG_URL
export const PG_SKIP = PG_URL ? false : 'TIMHOOK_TEST_PG_URL is not set (eval "$(scripts/pg-test-server.sh start)")'

let seq = 0

export function record(body: Record<string, unknown>, extra: Partial<CallbackRecord> = {}): CallbackRecord {
  const raw = Buffer.from(JSON.stringify(body))
  return {
    command: String(body.CallbackCommand),
    sdkAppId: '1400000000',
    clientIp: '10.0.0.1',
    optPlatform: 'RESTAPI',
    receivedAt: 1_700_000_000_000 + seq++,
    requestId: `req-${seq}`,
    rawBody: raw,
    body,
    valid: true,
    decision: null,
    ...extra,
  }
}

export const decision = (d: Partial<DecisionRecord> = {}): DecisionRecord => ({
  verdict: 'allow',
  rewritten: false,
  code: null,
  fallback: false,
  rule: null,
  action: null,
  reason: null,
  dryRun: false,
  ...d,
})

export const groupSend = (groupId: string, msgSeq: number, extra: Record<string, unknown> = {}) => ({
  CallbackCommand: 'Group.CallbackAfterSendMsg',
  GroupId: groupId,
  Type: 'Public',
  From_Account: 'alice',
  Operator_Account: 'alice',
  Random: 1000 + msgSeq,
  MsgSeq: msgSeq,
  MsgTime: 1_700_000_000,
  OnlineOnlyFlag: 0,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `message ${msgSeq}` } }],
  EventTime: 1_700_000_000_000 + msgSeq,
  ...extra,
})

export const groupBefore = (groupId: string, random: number, extra: Record<string, unknown> = {}) => ({
  CallbackCommand: 'Group.CallbackBeforeSendMsg',
  GroupId: groupId,
  Type: 'Public',
  From_Account: 'alice',
  Operator_Account: 'alice',
  Random: random,
  OnlineOnlyFlag: 0,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
  EventTime: 1_700_000_000_000,
  ...extra,
})

export const groupRecall = (groupId: string, seqs: number[], extra: Record<string, unknown> = {}) => ({
  CallbackCommand: 'Group.CallbackAfterRecallMsg',
  Operator_Account: 'admin',
  Type: 'Public',
  GroupId: groupId,
  MsgSeqList: seqs.map((MsgSeq) => ({ MsgSeq })),
  EventTime: 1_700_000_100_000,
  ...extra,
})

export const c2cSend = (msgKey: string, from = 'alice', to = 'bob', command = 'C2C.CallbackAfterSendMsg') => ({
  CallbackCommand: command,
  From_Account: from,
  To_Account: to,
  MsgSeq: Number(msgKey.split('_')[0]),
  MsgRandom: 7,
  MsgTime: 1_700_000_000,
  MsgKey: msgKey,
  OnlineOnlyFlag: 0,
  SendMsgResult: 0,
  ErrorInfo: 'send msg succeed',
  UnreadMsgNum: 1,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello bob' } }],
})

export const c2cWithdraw = (msgKey: string, from = 'alice', to = 'bob') => ({
  CallbackCommand: 'C2C.CallbackAfterMsgWithDraw',
  From_Account: from,
  To_Account: to,
  MsgKey: msgKey,
  UnreadMsgNum: 0,
  EventTime: 1_700_000_200_000,
})

export interface TestStore {
  store: Store
  /** Opens the same database again (a restart). */
  reopen(): Promise<Store>
  cleanup(): Promise<void>
}

/** A fresh store of the given kind; PostgreSQL gets a schema of its own, dropped by cleanup(). */
export async function freshStore(kind: 'sqlite' | 'postgres', options: StoreOptions = {}): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'timhook-store-'))
    const file = join(dir, 'test.db')
    const opened: Store[] = [await openStore(file, options)]
    return {
      store: opened[0]!,
      async reopen() {
        const s = await openStore(file, options)
        opened.push(s)
        return s
      },
      async cleanup() {
        for (const s of opened) await s.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const opened: Store[] = [await openStore(PG_URL!, { ...options, schema })]
  return {
    store: opened[0]!,
    async reopen() {
      const s = await openStore(PG_URL!, { ...options, schema })
      opened.push(s)
      return s
    },
    async cleanup() {
      for (const s of opened) await s.close()
      await dropSchema(schema)
    },
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await client.end()
  }
}

/** Every page of a listing, following nextCursor. */
export async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const out: T[] = []
  let cursor: string | undefined
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await fetchPage(cursor)
    out.push(...page.items)
    if (page.nextCursor === null) return out
    cursor = page.nextCursor
  }
  throw new Error('pagination did not end')
}
