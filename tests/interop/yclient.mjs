// A stock y-websocket client for the interop tests, driven over line-delimited JSON.
//
//   node yclient.mjs '{"url": "ws://127.0.0.1:8888/base/", "room": "api/collab/room/<id>",
//                      "epoch": "...", "token": "...", "headers": {}, "connect": true,
//                      "actions": [{"op": "insert", "at": 0, "text": "x"}]}'
//
// The config may also be the first line of stdin. Commands (from `actions`, then one
// per stdin line) run in order; each is answered with {"reply": op, "id": id, ...}:
//   insert {at, text}   into the root Y.Text `source` (a negative `at` counts from the end: -1 appends)
//   dump                {"text"}
//   wait {text, timeout_ms}  until the text equals `text`: {"ok": true|false, "text"}
//   awareness {state}   set the local awareness state
//   connect             provider.connect()
//   quit                destroy the provider, wait for the socket to close, exit 0
// Events are lines too: hello {clientID}, status, synced, connection-close {code, reason},
// closed {code, reason}, after-backoff {reconnecting}, message {data} (our type-4 JSON events).

import * as readline from 'node:readline'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import * as decoding from 'lib0/decoding'

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const config = JSON.parse(process.argv[2] ?? (await lines.next()).value)

const doc = new Y.Doc()
const text = doc.getText('source')

// Node 20 has no global WebSocket; the `ws` package also lets us send the auth headers.
const headers = { ...(config.headers ?? {}) }
if (config.token) headers.Authorization = `token ${config.token}`
class AuthWebSocket extends WebSocket {
  constructor (url, protocols) { super(url, protocols, { headers }) }
}

const provider = new WebsocketProvider(config.url, config.room, doc, {
  connect: config.connect ?? true,
  params: config.epoch == null ? {} : { epoch: config.epoch },
  WebSocketPolyfill: AuthWebSocket,
  disableBc: true
})
out({ event: 'hello', clientID: doc.clientID })

provider.on('status', ({ status }) => out({ event: 'status', status }))
provider.on('synced', (synced) => out({ event: 'synced', synced }))
provider.on('connection-close', (ev) => out({ event: 'connection-close', code: ev?.code ?? null, reason: ev?.reason ?? null }))
provider.on('closed', ({ code, reason }) => {
  out({ event: 'closed', code, reason })
  // The reconnect timer was set just before `closed` with this delay; a timer with the same
  // delay set now fires after it, so `reconnecting` tells whether that timer opened a socket.
  const delay = Math.min(2 ** provider.wsUnsuccessfulReconnects * 100, provider.maxBackoffTime)
  setTimeout(() => out({ event: 'after-backoff', reconnecting: provider.ws !== null || provider.shouldConnect }), delay)
})
// Our type-4 JSON events (e.g. `reload`): report them instead of "Unable to compute message".
provider.messageHandlers[4] = (_encoder, decoder) => out({ event: 'message', data: JSON.parse(decoding.readVarString(decoder)) })

const waitFor = (condition, timeoutMs) => new Promise((resolve) => {
  const check = () => {
    if (!condition()) return false
    clearTimeout(timer)
    text.unobserve(check)
    resolve(true)
    return true
  }
  const timer = setTimeout(() => { text.unobserve(check); resolve(false) }, timeoutMs)
  text.observe(check)
  check()
})

const commands = {
  insert: ({ at, text: s }) => { text.insert(at < 0 ? text.length + 1 + at : at, s) },
  dump: () => ({ text: text.toString() }),
  wait: async ({ text: expected, timeout_ms: ms = 10000 }) => ({
    ok: await waitFor(() => text.toString() === expected, ms),
    text: text.toString()
  }),
  awareness: ({ state }) => { provider.awareness.setLocalState(state) },
  connect: () => { provider.connect() },
  quit: async () => {
    const ws = provider.ws
    const closed = ws && ws.readyState !== WebSocket.CLOSED ? new Promise((resolve) => ws.once('close', resolve)) : null
    provider.destroy()
    await closed
  }
}

async function run (command) {
  const { op, id = null } = command
  if (!(op in commands)) return out({ reply: op, id, error: `unknown op ${op}` })
  out({ reply: op, id, ...(await commands[op](command)) })
  if (op === 'quit') process.exit(0)
}

for (const command of config.actions ?? []) await run(command)
for (let line = await lines.next(); !line.done; line = await lines.next()) {
  if (line.value.trim()) await run(JSON.parse(line.value))
}
// stdin closed without `quit`: leave as quit would
await run({ op: 'quit' })
