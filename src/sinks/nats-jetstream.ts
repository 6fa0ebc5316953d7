/**
 * NATS JetStream sink: one message per event on `subject` (`{command}` replaced by the event's
 * command), its data the envelope, its `Nats-Msg-Id` header the idempotency key, so JetStream
 * drops a redelivery that arrives within the stream's duplicate window. Publishes of one batch go
 * out together on one connection (in order) and each waits for its PubAck: the stream has the event
 * once the ack comes. The stream is created when missing (subjects: the subject with `{command}`
 * and what follows replaced by `>`).
 */
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { envelopeJson } from './envelope.js'
import type { OutboxEvent } from './outbox.js'
import { failureOf, settleInOrder, type SendResult, type Sink } from './sink.js'

export interface NatsJetStreamSinkOptions {
  name: string
  /** `nats://host:4222` (several, comma-separated, for a cluster). */
  url: string
  /** The stream, created when missing. */
  stream: string
  /** Subject per event; `{command}` becomes e.g. `Group.CallbackAfterSendMsg`. Default `tim.{command}`. */
  subject?: string | undefined
  /** The subjects of the stream when it is created. Default: the subject up to `{command}`, then `>` (`tim.>`). */
  streamSubjects?: readonly string[] | undefined
  commands?: readonly string[] | undefined
  /** PubAck and connect limit, ms. Default 5000. */
  timeoutMs?: number | undefined
}

/** The stream subjects for a subject template: `tim.{command}` → `tim.>`. */
export function streamSubjectsOf(subject: string): string[] {
  const at = subject.indexOf('{command}')
  if (at === -1) return [subject]
  const prefix = subject.slice(0, at)
  return [prefix === '' ? '>' : prefix.endsWith('.') ? `${prefix}>` : `${prefix}*.>`]
}

/**
 * @example const sink = natsJetStreamSink({ name: 'bus', url: 'nats://127.0.0.1:4222', stream: 'TIM', subject: 'tim.{command}' })
 */
export function natsJetStreamSink(options: NatsJetStreamSinkOptions): Sink {
  const timeoutMs = options.timeoutMs ?? 5000
  const template = options.subject ?? 'tim.{command}'
  const subjects = options.streamSubjects ?? streamSubjectsOf(template)
  let nc: NatsConnection | undefined
  let js: JetStreamClient | undefined
  let opening: Promise<JetStreamClient> | undefined

  const open = async (): Promise<JetStreamClient> => {
    if (js !== undefined && nc !== undefined && !nc.isClosed()) return js
    opening ??= (async () => {
      try {
        const conn = await connect({
          servers: options.url.split(',').map((s) => s.trim()),
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          timeout: timeoutMs,
          name: `timhook sink ${options.name}`,
        })
        try {
          const jsm = await jetstreamManager(conn, { timeout: timeoutMs })
          try {
            await jsm.streams.info(options.stream)
          } catch (err) {
            if (!/not found/i.test(String((err as Error).message))) throw err
            await jsm.streams.add({ name: options.stream, subjects: [...subjects] })
          }
        } catch (err) {
          await conn.close().catch(() => {})
          throw err
        }
        nc = conn
        js = jetstream(conn, { timeout: timeoutMs })
        return js
      } finally {
        opening = undefined
      }
    })()
    return opening
  }

  return {
    name: options.name,
    type: 'nats-jetstream',
    commands: options.commands === undefined ? undefined : new Set(options.commands),
    async send(events: OutboxEvent[]): Promise<SendResult> {
      let client: JetStreamClient
      try {
        client = await open()
      } catch (err) {
        return { confirmed: 0, failure: failureOf(err) }
      }
      return settleInOrder(
        events.map((e) =>
          client.publish(template.replaceAll('{command}', e.command), envelopeJson(e), { msgID: e.key, timeout: timeoutMs }),
        ),
      )
    },
    async close() {
      const c = nc
      nc = undefined
      js = undefined
      if (c !== undefined && !c.isClosed()) await c.close().catch(() => {})
    },
  }
}
