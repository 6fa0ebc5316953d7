// What users write without timhook: Express + express.json() + a switch on CallbackCommand, no verification.
import express from 'express'

const app = express()
app.use(express.json({ type: () => true })) // Tencent sends no content-type
app.post('/', (req, res) => {
  const body = req.body
  switch (req.query.CallbackCommand) {
    case 'Group.CallbackBeforeSendMsg': {
      const text = (body.MsgBody ?? []).map((m) => m.MsgContent?.Text ?? '').join('')
      return res.json({ ActionStatus: 'OK', ErrorCode: text.includes('forbidden') ? 1 : 0, ErrorInfo: '' })
    }
    case 'Group.CallbackAfterRecallMsg':
    case 'C2C.CallbackAfterMsgWithDraw':
    default:
      return res.json({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
  }
})
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'))
server.keepAliveTimeout = 65_000

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections())
