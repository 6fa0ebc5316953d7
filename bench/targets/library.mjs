// timhook's receiver on node:http, token verification on, handlers for the three core callbacks.
import http from 'node:http'
import { createReceiver, textOf, toNodeHandler, verdict } from '../../dist/index.js'

const receiver = createReceiver({ sdkAppId: process.env.SDK_APP_ID, token: process.env.TOKEN })
let recalled = 0
let withdrawn = 0
receiver.on('Group.CallbackBeforeSendMsg', (e) => (textOf(e.MsgBody).includes('forbidden') ? verdict.deny() : verdict.allow()))
receiver.on('Group.CallbackAfterRecallMsg', (e) => void (recalled += e.MsgSeqList.length))
receiver.on('C2C.CallbackAfterMsgWithDraw', () => void withdrawn++)
const server = http.createServer(toNodeHandler(receiver))
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'))

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections())
