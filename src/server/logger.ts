/**
 * Structured JSON logs (pino). Secrets and message text are redacted wherever they could appear
 * in a logged object, whatever the level; the server logs message bodies at no level.
 */
import { pino, type Logger as PinoLogger } from 'pino'

export type ServerLogger = PinoLogger

const REDACT = [
  'token',
  'adminToken',
  '*.token',
  '*.adminToken',
  'headers.authorization',
  '*.headers.authorization',
  'MsgBody',
  '*.MsgBody',
  'body',
  '*.body',
  'rawBody',
  '*.rawBody',
]

/**
 * A logger writing one JSON object per line to stdout (or `destination`).
 * @example const logger = createLogger('info'); logger.info({ requestId }, 'callback')
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): ServerLogger {
  const options = { level, base: { name: 'timhook' }, redact: { paths: REDACT, censor: '[redacted]' } }
  return destination === undefined ? pino(options) : pino(options, destination)
}
