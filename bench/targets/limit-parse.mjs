// The limit plus what any receiver must do with a callback's body: decode it as UTF-8 and
// JSON.parse it. The ceiling for a receiver that looks at the body at all (bench/run.ts).
import http from 'node:http'

const OK = '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}'
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(OK) }
const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8')
    if (text !== '') void JSON.parse(text) // '' is the bench's readiness probe
    res.writeHead(200, headers).end(OK)
  })
})
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'))

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections())
