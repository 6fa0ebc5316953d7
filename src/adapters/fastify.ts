import type { FastifyInstance, FastifyPluginCallback } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import type { Receiver } from '../receiver/create-receiver.js'
import type { RawRequest } from '../receiver/handle-request.js'
import { queryOf } from '../receiver/request-target.js'
import { readNodeBody } from './read-node-body.js'

export interface FastifyPluginOptions {
  receiver: Receiver
  /** Route path inside the plugin's prefix. Default `/`. */
  path?: string | undefined
}

/**
 * A Fastify plugin that serves the receiver at `path`. Inside the plugin's scope the body is kept
 * raw (Sign verification and the body limit need the bytes), so other routes keep their parsers.
 * @example await app.register(timhookFastify, { receiver, prefix: '/tim' }) // POST /tim/
 */
export const timhookFastify: FastifyPluginCallback<FastifyPluginOptions> = (instance: FastifyInstance, options, done) => {
  const { receiver, path = '/' } = options
  instance.removeAllContentTypeParsers()
  // Pass the request stream through untouched; the route reads it with timhook's own limit.
  instance.addContentTypeParser('*', (_req, payload, next) => next(null, payload))
  instance.route({
    method: ['POST', 'GET', 'PUT', 'DELETE', 'PATCH'],
    url: path,
    handler: async (request, reply) => {
      const raw: RawRequest = { method: request.method, query: queryOf(request.raw.url ?? '/'), headers: request.headers, body: undefined }
      const payload = request.body as Readable | undefined
      if (request.method === 'POST') {
        const read = await readNodeBody(request.raw as IncomingMessage, receiver.bodyLimit, payload ?? request.raw)
        if (read.ok) raw.body = read.body
        else raw.bodyError = read.error
      }
      const response = await receiver.handle(raw)
      return reply.code(response.status).headers(response.headers).send(response.body)
    },
  })
  done()
}
