/**
 * timhook — Tencent Cloud IM callbacks for Node: verify, decode, route, answer.
 * @example
 * import { createReceiver, verdict } from 'timhook'
 */
export * from './protocol/index.js'
export * from './receiver/index.js'
// Adapters are functions of a receiver: the receiver itself knows no HTTP stack.
export { toNodeHandler, type NodeListener } from './adapters/node.js'
export { toFetchHandler, type FetchHandler } from './adapters/fetch.js'
// The Fastify plugin is `timhook/fastify`: its types import fastify's, an optional peer that a
// project without Fastify does not have.
// The moderation policy is `timhook/policy` and the emulator `timhook/emulator`: importing them here
// would add their dependencies (zod, yaml, a regex checker: ~250 ms) to every cold start of the receiver.
