// runtools code interpreter: one persistent JavaScript context.
//
// server.py runs this with Node.js and writes one request a line on its
// stdin: {"code": "...", "env": {...}, "timeout_ms": N}. Its first line
// says {"type":"ready"}. It answers with CodeEvent lines
// on stdout (stdout, stderr, result, error) and last {"type":"end"}.
// Top-level declarations and globals stay from one cell to the next; a
// cell whose value is a promise is awaited.
'use strict';
const vm = require('node:vm');
const util = require('node:util');
const readline = require('node:readline');

const out = process.stdout.write.bind(process.stdout);
const emit = (ev) => out(JSON.stringify(ev) + '\n');
const print = (type) => (...args) => emit({ type, text: util.format(...args) + '\n' });
const console_ = {
  log: print('stdout'), info: print('stdout'), debug: print('stdout'),
  error: print('stderr'), warn: print('stderr'), trace: print('stderr'),
  dir: (v) => emit({ type: 'stdout', text: util.inspect(v) + '\n' }),
  table: print('stdout'),
};
// A cell's process.stdout and process.stderr write events, not raw bytes
// into the protocol.
const stream = (type) => ({ write: (chunk) => { emit({ type, text: String(chunk) }); return true; }, isTTY: false });
const process_ = Object.create(process, {
  stdout: { value: stream('stdout') }, stderr: { value: stream('stderr') },
});
const sandbox = {
  console: console_, require, process: process_, Buffer, URL, URLSearchParams, TextEncoder, TextDecoder,
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, queueMicrotask,
  fetch: globalThis.fetch, structuredClone, AbortController, performance: globalThis.performance,
};
sandbox.globalThis = sandbox;
const context = vm.createContext(sandbox);

function resultOf(value) {
  const r = { is_main: true, text: util.inspect(value, { depth: 4 }) };
  if (value !== null && typeof value === 'object') {
    try { r.json = JSON.parse(JSON.stringify(value)); } catch { /* not JSON: text only */ }
  }
  return r;
}

async function run(req) {
  const ms = req.timeout_ms > 0 ? req.timeout_ms : undefined;
  let timedOut = false;
  const env = req.env || {};
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    let value = new vm.Script(req.code, { filename: 'cell.js' }).runInContext(context, { timeout: ms });
    if (value && typeof value.then === 'function') {
      let timer;
      const limit = new Promise((_, reject) => {
        if (ms) timer = setTimeout(() => reject(Object.assign(new Error(`the cell ran over ${ms} ms`), { timedOut: true })), ms);
      });
      try { value = await Promise.race([value, limit]); } finally { clearTimeout(timer); }
    }
    if (value !== undefined) emit({ type: 'result', result: resultOf(value) });
  } catch (err) {
    timedOut = Boolean(err && (err.timedOut || err.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT'));
    const e = err instanceof Error || (err && err.stack) ? err : new Error(String(err));
    emit({ type: 'error', error: { name: e.name || 'Error', value: e.message || String(err), traceback: String(e.stack || '') } });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }
  emit({ type: 'end', timed_out: timedOut });
}

// server.py interrupts a Python cell with SIGINT; a JavaScript cell ends
// at its own timeout, so SIGINT must not end the context.
process.on('SIGINT', () => {});
let chain = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  chain = chain.then(() => run(JSON.parse(line)));
}).on('close', () => process.exit(0));
emit({ type: 'ready' });
