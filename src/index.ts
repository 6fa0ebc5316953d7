/**
 * timhook — Tencent Cloud IM callbacks for Node: verify, decode, route, answer.
 * @example
 * import { createReceiver, verdict } from 'timhook'
 */
export * from './protocol/index.js'
export * from './receiver/index.js'
export { timhookFastify, type FastifyPluginOptions } from './adapters/fastify.js'
// The moderation policy is `timhook/policy` and the emulator `timhook/emulator`: importing them here
// would add their dependencies (zod, yaml, a regex checker: ~250 ms) to every cold start of the receiver.
