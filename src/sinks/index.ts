/**
 * `timhook/sinks`: deliver recorded callbacks onward — Redis Streams, NATS JetStream, signed
 * webhooks — at least once, in order, from an outbox (timhook's store, or your own).
 */
export { startSinkRunner, type SinkRunner, type SinkRunnerOptions, type SinkLiveStatus, type SinkLogger } from './run-sinks.js'
export {
  ReplayError,
  type Outbox,
  type OutboxEvent,
  type SinkCursor,
  type SinkStatusRow,
  type DeadLetter,
  type ReplayFrom,
} from './outbox.js'
export { SinkFailure, type Sink, type SendResult, type SinkFailureReason } from './sink.js'
export { redisStreamSink, type RedisStreamSinkOptions } from './redis-stream.js'
export { natsJetStreamSink, type NatsJetStreamSinkOptions } from './nats-jetstream.js'
export { webhookSink, type WebhookSinkOptions } from './webhook.js'
export { envelopeJson, type SinkEnvelope } from './envelope.js'
export { signWebhook, verifyWebhook, webhookSecretKey, WebhookVerificationError, type VerifyOptions } from './signature.js'
export { backoffDelay, type BackoffOptions } from './backoff.js'
export { createSink, parseSinks, sinkSchema, type SinkConfig } from './config.js'
