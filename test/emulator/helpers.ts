/** A recording App backend and a REST client, for the emulator tests. */
import type http from 'node:http'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js'
import { listen } from '../helpers/http.js'

export const APP = '1400000000'

export interface Recorded {
  path: string
  query: URLSearchParams
  command: string
  body: Record<string, unknown>
  headers: http.IncomingHttpHeaders
  remotePort: number
}

export type Reply = { status?: number; body?: unknown; raw?: string; delayMs?: number }
export type Answerer = (command: string, body: Record<string, unknown>) => Reply | undefined

const OK = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }

/** A callback backend on 127.0.0.1 that records every request and answers as `answer` says (OK by default). */
export async function recordingBackend(answer: Answerer = () => undefined) {
  const requests: Recorded[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = await listen((req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => (text += c.toString('utf8')))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const body = JSON.parse(text) as Record<string, unknown>
      const command = url.searchParams.get('CallbackCommand') ?? ''
      requests.push({
        path: url.pathname,
        query: url.searchParams,
        command,
        body,
        headers: req.headers,
        remotePort: req.socket.remotePort ?? 0,
      })
      const reply = answer(command, body) ?? {}
      const respond = () => {
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' })
        res.end(reply.raw ?? JSON.stringify(reply.body ?? OK))
      }
      if (reply.delayMs === undefined) respond()
      else {
        const t = setTimeout(() => {
          timers.delete(t)
          respond()
        }, reply.delayMs)
        timers.add(t)
      }
    })
  })
  return {
    url: server.url,
    requests,
    of: (command: string) => requests.filter((r) => r.command === command),
    close: async () => {
      for (const t of timers) clearTimeout(t)
      await server.close()
    },
  }
}

export type Backend = Awaited<ReturnType<typeof recordingBackend>>

export const restQuery = (extra: Record<string, string> = {}) =>
  new URLSearchParams({
    sdkappid: APP,
    identifier: 'admin',
    usersig: 'any-sig',
    random: '99999999',
    contenttype: 'json',
    ...extra,
  }).toString()

export type Envelope = { ActionStatus: string; ErrorCode: number; ErrorInfo: string; [k: string]: unknown }

/** POSTs a REST call; `body` may be a raw string to send malformed JSON. */
export async function rest(emulator: Emulator, api: string, body: unknown, query = restQuery()): Promise<Envelope> {
  const res = await fetch(`${emulator.url}/v4/${api}?${query}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  if (res.status !== 200) throw new Error(`REST ${api} answered HTTP ${res.status}`)
  return (await res.json()) as Envelope
}

export async function read(emulator: Emulator, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emulator.url}${path}`)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

export const text = (t: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }]

/** An emulator wired to `backend`, closed with it by the returned `close`. */
export async function emulatorFor(backend: { url: string } | undefined, options: Partial<EmulatorOptions> = {}) {
  const emulator = await startEmulator({ sdkAppId: APP, callbackUrl: backend === undefined ? undefined : `${backend.url}/im`, ...options })
  return emulator
}

export async function createGroup(emulator: Emulator, body: Record<string, unknown> = { Type: 'Public', Name: 'team' }): Promise<string> {
  const r = await rest(emulator, 'group_open_http_svc/create_group', body)
  if (r.ActionStatus !== 'OK') throw new Error(`create_group failed: ${JSON.stringify(r)}`)
  return r.GroupId as string
}
