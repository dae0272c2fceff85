// Interactive exec over a WebSocket (sandbox.attach) against a real
// server: streaming stdin and stdout line by line, stderr apart, exit
// codes, a TTY, a wrong key; and, without a server, the typed error of a
// runtime without a WebSocket and the abort of its signal (against a fake
// WebSocket). On Node.js 20 the global WebSocket needs
// --experimental-websocket, which scripts/test.mjs passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Client, Sandbox, UnauthenticatedError, UnsupportedRuntimeError } from 'runtools';
import { cleanup, needsServer } from './helpers.mjs';

/** Lines of text as they come, and a way to wait for the next one. */
function lineReader() {
  let buf = '';
  const lines = [];
  let waiting;
  return {
    push(text) {
      buf += text;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
      }
      if (waiting && lines.length > 0) waiting();
    },
    async next(ms = 20_000) {
      if (lines.length === 0) {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no line within ${ms} ms (have ${JSON.stringify(buf)})`)), ms);
          waiting = () => (clearTimeout(timer), (waiting = undefined), resolve());
        });
      }
      return lines.shift();
    },
  };
}

test('attach', { ...needsServer, skip: needsServer.skip || (typeof globalThis.WebSocket !== 'function' && 'no global WebSocket: run Node.js 20 with --experimental-websocket') }, async (t) => {
  const sb = cleanup(t, await Sandbox.create());

  await t.test('streams each line to cat and back before the next is sent', async () => {
    const out = lineReader();
    const s = await sb.attach('cat', { onStdout: (text) => out.push(text) });
    for (const line of ['one', 'two', 'three']) {
      s.write(line + '\n');
      assert.equal(await out.next(), line);
    }
    s.write(new TextEncoder().encode('bytes\n'));
    assert.equal(await out.next(), 'bytes');
    s.closeStdin();
    const r = await s.wait();
    assert.deepEqual(r, { stdout: 'one\ntwo\nthree\nbytes\n', stderr: '', exitCode: 0, timedOut: false });
  });

  await t.test('stderr apart from stdout, and the exit code', async () => {
    const err = [];
    const s = await sb.attach(['sh', '-c', 'read x; echo "out:$x"; echo "err:$x" >&2; exit 3'], {
      env: { UNUSED: '1' },
      cwd: '/tmp',
      onStderr: (text) => err.push(text),
    });
    s.write('hi\n');
    const r = await s.wait();
    assert.deepEqual(r, { stdout: 'out:hi\n', stderr: 'err:hi\n', exitCode: 3, timedOut: false });
    assert.equal(err.join(''), 'err:hi\n');
  });

  await t.test('a TTY: test -t 0 holds, the size is set, output is one stream', async () => {
    const s = await sb.attach('test -t 0 && echo tty; stty size; echo to-stderr >&2', { tty: true, cols: 100, rows: 30 });
    const r = await s.wait();
    assert.equal(r.exitCode, 0, JSON.stringify(r));
    assert.equal(r.stdout.replace(/\r/g, ''), 'tty\n30 100\nto-stderr\n');
    assert.equal(r.stderr, '');
  });

  await t.test('without a TTY, test -t 0 fails', async () => {
    const s = await sb.attach('test -t 0');
    s.closeStdin();
    assert.equal((await s.wait()).exitCode, 1);
  });

  await t.test('a signal ends the command; a timeout is 124', async () => {
    const s = await sb.attach(['sleep', '60']);
    s.signal('TERM');
    assert.equal((await s.wait()).exitCode, 143);
    const slow = await sb.attach(['sleep', '60'], { timeoutMs: 500 });
    const r = await slow.wait();
    assert.equal(r.exitCode, 124);
    assert.equal(r.timedOut, true);
  });

  await t.test('a command that does not exist exits 127 with an error', async () => {
    const s = await sb.attach(['no-such-command-here']);
    const r = await s.wait();
    assert.equal(r.exitCode, 127);
    assert.ok(r.error, JSON.stringify(r));
  });

  await t.test('a wrong key is an UnauthenticatedError', async () => {
    const c = new Client({ apiKey: 'rt_wrong-key' });
    await assert.rejects(c.sandbox(sb.id).attach('cat'), UnauthenticatedError);
  });

  await t.test('closing before the exit ends the command, and wait rejects', async () => {
    const s = await sb.attach('cat');
    s.close();
    await assert.rejects(s.wait(), /closed before the command exited/);
    s.write('dropped'); // does nothing once the session ended
    s.closeStdin();
  });
});

test('attach without a global WebSocket is an UnsupportedRuntimeError', async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
  delete globalThis.WebSocket;
  try {
    const c = new Client({ url: 'http://127.0.0.1:1', apiKey: 'k', fetch: () => assert.fail('no request is sent') });
    const err = await c.sandbox('x').attach('cat').then(
      () => assert.fail('attach resolved'),
      (e) => e,
    );
    assert.ok(err instanceof UnsupportedRuntimeError, String(err));
    assert.equal(err.code, 'unsupported_runtime');
    assert.equal(err.status, 0);
    assert.match(err.message, /Node\.js 22/);
    assert.match(err.message, /--experimental-websocket/);
  } finally {
    if (had) Object.defineProperty(globalThis, 'WebSocket', had);
  }
});

/**
 * A WebSocket that opens, then plays the server's side of exec attach as
 * far as `script` says: 'start' after the request, then 'exit' too.
 */
function fakeWebSocket(script) {
  const made = [];
  class FakeWebSocket {
    constructor() {
      made.push(this);
      this.readyState = 0;
      this.sent = [];
      this.closedWith = undefined;
      setTimeout(() => ((this.readyState = 1), this.onopen?.({})));
    }
    send(data) {
      this.sent.push(data);
      if (this.sent.length > 1) return;
      const text = (m) => setTimeout(() => this.onmessage?.({ data: JSON.stringify(m) }));
      if (script === 'start' || script === 'exit') text({ type: 'start' });
      if (script === 'exit') text({ type: 'exit', exit_code: 0 });
    }
    close(code) {
      if (this.readyState === 3) return;
      this.closedWith = code;
      this.readyState = 3;
      setTimeout(() => this.onclose?.({ code: 1006, reason: '' }));
    }
  }
  return { FakeWebSocket, made };
}

function fakeClient(WebSocket) {
  return new Client({ url: 'http://127.0.0.1:1', apiKey: 'k', fetch: () => assert.fail('no request is sent'), WebSocket });
}

test('attach with an aborted signal rejects with its reason without connecting', async () => {
  const c = fakeClient(class {
    constructor() {
      assert.fail('a WebSocket was opened');
    }
  });
  await assert.rejects(c.sandbox('x').attach('cat', { signal: AbortSignal.abort() }), (err) => err.name === 'AbortError');
  const mine = new Error('mine');
  await assert.rejects(c.sandbox('x').attach('cat', { signal: AbortSignal.abort(mine) }), (err) => err === mine);
  // Before the runtime is checked, as fetch checks its signal first.
  const had = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
  delete globalThis.WebSocket;
  try {
    const bare = new Client({ url: 'http://127.0.0.1:1', apiKey: 'k', fetch: () => assert.fail('no request is sent') });
    await assert.rejects(bare.sandbox('x').attach('cat', { signal: AbortSignal.abort() }), (err) => err.name === 'AbortError');
  } finally {
    if (had) Object.defineProperty(globalThis, 'WebSocket', had);
  }
});

test('an abort before the command started closes the WebSocket and rejects attach', async () => {
  const { FakeWebSocket, made } = fakeWebSocket('never');
  const ac = new AbortController();
  const attaching = fakeClient(FakeWebSocket).sandbox('x').attach('cat', { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 10)); // open, request sent, no start
  assert.equal(made[0].sent.length, 1);
  ac.abort();
  await assert.rejects(attaching, (err) => err.name === 'AbortError');
  assert.equal(made[0].closedWith, 1000);
});

test('an abort while the command runs closes the WebSocket and rejects wait', async () => {
  const { FakeWebSocket, made } = fakeWebSocket('start');
  const ac = new AbortController();
  const s = await fakeClient(FakeWebSocket).sandbox('x').attach('cat', { signal: ac.signal });
  ac.abort();
  await assert.rejects(s.wait(), (err) => err.name === 'AbortError');
  assert.equal(made[0].closedWith, 1000);
  s.write('dropped');
  assert.equal(made[0].sent.length, 1, 'a write after the abort was sent');
});

test('an abort after the exit changes nothing', async () => {
  const { FakeWebSocket } = fakeWebSocket('exit');
  const ac = new AbortController();
  const s = await fakeClient(FakeWebSocket).sandbox('x').attach('true', { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 10)); // the exit message arrives
  ac.abort();
  assert.deepEqual(await s.wait(), { stdout: '', stderr: '', exitCode: 0, timedOut: false });
});
