// Runs the tests (test/*.test.mjs) with Node's test runner. On a Node.js
// without a global WebSocket (20 and 21), the test processes get
// --experimental-websocket, so attach's tests run against the server.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../test/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.mjs'))
  .sort()
  .map((f) => 'test/' + f);
const flags = typeof globalThis.WebSocket === 'function' ? [] : ['--experimental-websocket'];
const r = spawnSync(
  process.execPath,
  [...flags, '--test', '--test-concurrency=4', '--test-reporter=spec', ...process.argv.slice(2), ...files],
  { stdio: 'inherit', cwd: fileURLToPath(new URL('..', import.meta.url)) },
);
if (r.error) throw r.error;
process.exit(r.status ?? 1);
