/** The schema source: every command's schema and the shared element definitions. */
import type { CommandSchema } from './dsl.js'
import { messageCommands } from './messages.js'
import { otherCommands } from './others.js'

export { definitions, KNOWN_ELEMENT_TYPES } from './elements.js'
export type { CommandSchema, Schema } from './dsl.js'

/** All command schemas: the message family first, then the rest in catalogue order. */
export const commandSchemas: CommandSchema[] = [...messageCommands, ...otherCommands]
