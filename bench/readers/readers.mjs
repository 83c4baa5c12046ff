// Light fan-out readers: N websockets of one room in one Node process (the `ws` package).
//
// Each reader answers the server's sync step 1 with an empty step 2 and asks for the
// document with an empty step 1; after that it only looks at the header of each sync
// update: the writer's keystroke k is the update's first struct (writer's client id,
// clock k), so nothing is decoded. Arrival times come from process.hrtime.bigint(),
// which on Linux is CLOCK_MONOTONIC, the clock of Python's time.monotonic(): they
// compare directly with the writer's send times (the "clock" command lets the parent
// check this). One reader per process ("verifier") also applies every update to a
// Yjs document (when yjs can be imported), so convergence is checked on a replica.
//
// Commands: one JSON object per line on stdin, one JSON reply per line on stdout.
//   {"cmd": "clock"}                 -> {"ns": "<CLOCK_MONOTONIC ns>"}
//   {"cmd": "connect", port, path, headers, writer, n, base_ns}
//                                    -> {"n": connected, "errors": [...]}
//   {"cmd": "mark"}                  -> {"cpu": seconds of CPU used so far}
//   {"cmd": "collect", last_clock, timeout}
//       waits until every reader has the writer's clock `last_clock` (or the timeout),
//       closes the readers      -> {"clocks": [b64 int64...], "times": [b64 float64...],
//                                   "done_at", "timed_out", "other", "cpu", "verifier_text"}
//   {"cmd": "quit"}
// Times in replies are seconds of CLOCK_MONOTONIC (base_ns + offset, as doubles).

import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const SYNC = 0;
const STEP1 = 0;
const STEP2 = 1;
const UPDATE = 2;
const STEP1_EMPTY = Buffer.from([SYNC, STEP1, 1, 0]);
const STEP2_EMPTY = Buffer.from([SYNC, STEP2, 2, 0, 0]);

let Y = null;
try {
  Y = await import('yjs');
} catch {
  Y = null; // no verifier: the parent reports convergence as unknown
}

let base = 0n; // CLOCK_MONOTONIC ns that arrival offsets are counted from
let readers = [];

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const now = () => Number(process.hrtime.bigint() - base); // ns since base, exact as a double

class Reader {
  constructor(writer, verify) {
    this.writer = writer;
    this.clocks = new Float64Array(1024);
    this.times = new Float64Array(1024);
    this.count = 0;
    this.maxClock = -1;
    this.other = 0;
    this.doc = verify && Y ? new Y.Doc() : null;
    this.ws = null;
    this.synced = null;
  }

  record(clock, t) {
    if (this.count === this.clocks.length) {
      const grow = (a) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.clocks = grow(this.clocks);
      this.times = grow(this.times);
    }
    this.clocks[this.count] = clock;
    this.times[this.count] = t;
    this.count += 1;
    if (clock > this.maxClock) this.maxClock = clock;
  }
}

// lib0 var uint up to 2^53 at `at`; leaves the position after it in `at`
let at = 0;
function varUint(m) {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = m[at++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
}

function onMessage(r, m) {
  const t = now();
  if (m.length < 2 || m[0] !== SYNC) return; // awareness, events: not part of this
  const kind = m[1];
  if (kind === UPDATE) {
    at = 2;
    const length = varUint(m);
    const start = at;
    const groups = varUint(m);
    if (r.doc) Y.applyUpdate(r.doc, m.subarray(start, start + length));
    if (!groups) return;
    varUint(m); // structs in the first group
    const client = varUint(m);
    const clock = varUint(m);
    if (client !== r.writer) {
      r.other += 1;
      return;
    }
    r.record(clock, r.doc ? now() : t);
  } else if (kind === STEP2) {
    if (r.doc) {
      at = 2;
      const length = varUint(m);
      Y.applyUpdate(r.doc, m.subarray(at, at + length));
    }
    if (r.synced) {
      r.synced();
      r.synced = null;
    }
  } else if (kind === STEP1) {
    r.ws.send(STEP2_EMPTY);
  }
}

function connectOne(spec, verify) {
  const r = new Reader(spec.writer, verify);
  return new Promise((resolve, reject) => {
    const url = `ws://127.0.0.1:${spec.port}${spec.path}`;
    const ws = new WebSocket(url, {
      headers: spec.headers,
      perMessageDeflate: false,
      skipUTF8Validation: true
    });
    r.ws = ws;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no sync step 2 within 60 s'));
    }, 60000);
    r.synced = () => {
      clearTimeout(timer);
      resolve(r);
    };
    ws.on('open', () => {
      ws._socket.setNoDelay(true);
      ws.send(STEP1_EMPTY);
    });
    ws.on('message', (data) => onMessage(r, data));
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', (code, reason) => {
      if (r.synced) {
        clearTimeout(timer);
        reject(new Error(`closed ${code} ${reason}`));
      }
    });
  });
}

async function connect(spec) {
  base = BigInt(spec.base_ns);
  readers = [];
  const errors = [];
  let next = 0;
  const worker = async () => {
    while (next < spec.n) {
      const i = next++;
      try {
        readers.push(await connectOne(spec, i === 0));
      } catch (err) {
        errors.push(String(err && err.message ? err.message : err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(10, spec.n) }, worker));
  readers.sort((a, b) => (a.doc ? 0 : 1) - (b.doc ? 0 : 1)); // the verifier first
  return { n: readers.length, errors: errors.slice(0, 5) };
}

function b64(typed) {
  return Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString('base64');
}

async function collect(spec) {
  const deadline = now() + spec.timeout * 1e9;
  const behind = () => readers.some((r) => r.maxClock < spec.last_clock);
  while (behind() && now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const doneAt = now();
  const timedOut = behind();
  const toSeconds = (ns) => Number(base) / 1e9 + ns / 1e9;
  const out = {
    clocks: readers.map((r) => b64(BigInt64Array.from(r.clocks.subarray(0, r.count), BigInt))),
    times: readers.map((r) => b64(r.times.subarray(0, r.count).map(toSeconds))),
    other: readers.reduce((s, r) => s + r.other, 0),
    verifier_text: null,
    done_at: toSeconds(doneAt),
    timed_out: timedOut,
    cpu: cpuSeconds()
  };
  const verifier = readers.find((r) => r.doc);
  if (verifier) {
    const cell = verifier.doc.getArray('cells').get(0);
    out.verifier_text = cell ? cell.get('source').toString() : null;
  }
  for (const r of readers) r.ws.terminate();
  readers = [];
  return out;
}

const handlers = {
  clock: async () => ({ ns: process.hrtime.bigint().toString() }),
  connect,
  mark: async () => ({ cpu: cpuSeconds() }),
  collect,
  quit: async () => {
    setImmediate(() => process.exit(0));
    return { bye: true };
  }
};

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  const msg = JSON.parse(line);
  queue = queue.then(async () => {
    let reply;
    try {
      reply = await handlers[msg.cmd](msg);
    } catch (err) {
      reply = { error: String(err && err.stack ? err.stack : err) };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  });
});
lines.on('close', () => process.exit(0));
