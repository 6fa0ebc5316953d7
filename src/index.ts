/**
 * timhook — Tencent Cloud IM callbacks for Node: verify, decode, route, answer.
 * @example
 * import { createReceiver, verdict } from 'timhook'
 */
export * from './protocol/index.js'
export * from './receiver/index.js'
export { timhookFastify, type FastifyPluginOptions } from './adapters/fastify.js'
