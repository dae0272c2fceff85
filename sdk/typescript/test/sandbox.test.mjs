// Sandboxes against a real server: create, get, list, connect, update,
// exec (collected, streamed, failing), files, background processes, destroy.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConflictError, NotFoundError, Sandbox, InvalidArgumentError } from 'runtools';
import { checkAnswersAreDocumented, cleanup, client, needsServer, uniqueName } from './helpers.mjs';

test('create, get, list, connect, update, destroy', needsServer, async (t) => {
  const name = uniqueName('ts-basic');
  const sb = cleanup(t, await Sandbox.create({ name, template: 'base', vcpus: 1, memory: 512, idleTimeout: 900, env: { GREETING: 'hi' }, metadata: { owner: 'sdk-test' } }));
  assert.match(sb.id, /^sandbox-/);
  assert.equal(sb.name, name);
  assert.equal(sb.state, 'running');
  assert.equal(sb.vcpus, 1);
  assert.equal(sb.memoryMb, 512);
  assert.equal(sb.idleTimeout, 900);
  assert.deepEqual(sb.env, { GREETING: 'hi' });
  assert.deepEqual(sb.metadata, { owner: 'sdk-test' });
  assert.ok(sb.createdAt instanceof Date && !Number.isNaN(sb.createdAt.getTime()));
  assert.ok(sb.accessToken, 'a private sandbox has an access token');

  const byName = await Sandbox.get(name);
  assert.equal(byName.id, sb.id);
  const connected = await Sandbox.connect(sb.id);
  assert.equal(connected.state, 'running');

  const list = await Sandbox.list();
  assert.ok(list.some((s) => s.id === sb.id), 'list has the new sandbox');

  await sb.update({ idleTimeout: 0 });
  assert.equal(sb.idleTimeout, 0);
  const handle = client().sandbox(name);
  await handle.refresh();
  assert.equal(handle.id, sb.id);
  assert.equal(handle.idleTimeout, 0);

  const events = await sb.events();
  assert.ok(events.some((e) => e.to === 'running'), JSON.stringify(events));

  await sb.destroy();
  assert.equal(sb.state, 'destroyed');
  assert.ok(!(await Sandbox.list()).some((s) => s.id === sb.id), 'a destroyed sandbox is not listed');
  assert.ok((await Sandbox.list({ all: true })).some((s) => s.id === sb.id), 'but is with all');
});

test('exec', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create({ env: { FROM_CREATE: 'yes' } }));

  await t.test('a string runs with sh -c', async () => {
    const r = await sb.exec('echo "$FROM_CREATE" && echo oops >&2');
    assert.deepEqual(r, { stdout: 'yes\n', stderr: 'oops\n', exitCode: 0, timedOut: false });
  });

  await t.test('an argv array runs as it is, with env, cwd, user and stdin', async () => {
    const r = await sb.exec(['sh', '-c', 'pwd; id -un; echo "$X"; tr a-z A-Z'], {
      env: { X: 'ex' },
      cwd: '/tmp',
      user: 'nobody',
      stdin: 'hello',
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, '/tmp\nnobody\nex\nHELLO');
  });

  await t.test('a failing command is a result, not an error', async () => {
    const r = await sb.exec('echo partial; exit 3');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, 'partial\n');
  });

  await t.test('timeouts kill the command with exit code 124', async () => {
    const r = await sb.exec('sleep 30', { timeoutMs: 300 });
    assert.equal(r.exitCode, 124);
    assert.equal(r.timedOut, true);
  });

  await t.test('a program that does not exist', async () => {
    const r = await sb.exec(['/no/such/program']);
    assert.notEqual(r.exitCode, 0);
    assert.ok(r.error || r.stderr, JSON.stringify(r));
  });

  await t.test('streaming callbacks see output as it is produced', async () => {
    // The command waits for a file the test writes only once line1 has
    // reached onStdout: it can end only if its output is streamed, and no
    // timing is asserted.
    const chunks = [];
    const events = [];
    let released;
    const r = await sb.exec('echo line1; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo line2; echo bad >&2; exit 7', {
      onStdout: (s) => {
        chunks.push({ s });
        if (!released) released = sb.files.write('/tmp/go', '');
      },
      onStderr: (s) => chunks.push({ err: s }),
      onEvent: (e) => events.push(e.type),
      timeoutMs: 30000,
    });
    await released;
    assert.equal(r.timedOut, false, 'the command never saw /tmp/go: output was not streamed');
    assert.equal(r.exitCode, 7);
    assert.equal(r.stdout, 'line1\nline2\n');
    assert.equal(chunks.filter((c) => c.s).map((c) => c.s).join(''), r.stdout);
    assert.deepEqual(chunks.filter((c) => c.err).map((c) => c.err).join(''), 'bad\n');
    assert.equal(events[0], 'start');
    assert.equal(events.at(-1), 'exit');
  });

  await t.test('multi-byte characters split across chunks stay whole', async () => {
    const r = await sb.exec(['python3', '-c', 'import sys,time\nb="é€😀".encode()\nfor c in b:\n  sys.stdout.buffer.write(bytes([c])); sys.stdout.flush(); time.sleep(0.01)']);
    assert.equal(r.stdout, 'é€😀');
  });

  await t.test('an empty command is refused before any request', async () => {
    await assert.rejects(sb.exec([]), InvalidArgumentError);
  });

  await t.test('abort stops waiting', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(sb.exec('sleep 20', { signal: ac.signal }), (err) => err.name === 'AbortError');
    await assert.rejects(sb.exec('sleep 20', { signal: AbortSignal.timeout(200) }), (err) => err.name === 'TimeoutError');
    const left = await sb.exec('ps -eo args | grep -c "^sleep 20" || true');
    assert.equal(left.stdout.trim(), '0', 'an aborted command is killed');
  });
});

test('background processes', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create());
  const p = await sb.start('for i in 1 2 3; do echo tick$i; sleep 0.2; done; exit 5', { cwd: '/tmp' });
  assert.ok(p.pid > 0);
  const seen = [];
  const out = await p.wait({ onStdout: (s) => seen.push(s) });
  assert.equal(out.exitCode, 5);
  assert.equal(out.stdout, 'tick1\ntick2\ntick3\n');
  assert.equal(seen.join(''), out.stdout);

  const again = await sb.process(p.pid).output();
  assert.equal(again.stdout, out.stdout, 'buffered output is kept after exit');
  assert.equal(again.exitCode, 5);

  const server = await sb.start(['sleep', '300']);
  const running = await sb.processes();
  const info = running.find((x) => x.pid === server.pid);
  assert.ok(info?.running, JSON.stringify(running));
  assert.deepEqual(info.cmd, ['sleep', '300']);
  const partial = await server.output();
  assert.equal(partial.exitCode, null, 'a running process has no exit code yet');
  await server.kill('KILL');
  const done = await server.wait();
  assert.notEqual(done.exitCode, 0);
  const after = (await sb.processes()).find((x) => x.pid === server.pid);
  assert.equal(after.running, false);

  await assert.rejects(sb.process(999999).output(), NotFoundError);
});

test('stdin of a background process, streamed over HTTP', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create());
  const p = await sb.start(['sh', '-c', 'while read line; do echo "got $line"; done; echo end'], { stdinOpen: true });
  for (const word of ['one', 'two']) {
    await p.sendStdin(`${word}\n`);
    let out;
    for (let i = 0; i < 100; i++) {
      out = await p.output();
      if (out.stdout.includes(`got ${word}\n`)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(out.stdout.includes(`got ${word}\n`), `the line was answered before the next was sent: ${JSON.stringify(out.stdout)}`);
  }
  await p.closeStdin();
  const done = await p.wait();
  assert.equal(done.exitCode, 0);
  assert.equal(done.stdout, 'got one\ngot two\nend\n');
  await assert.rejects(p.sendStdin('late'), ConflictError, 'a process that exited takes no input');

  const closed = await sb.start(['sleep', '300']);
  t.after(() => closed.kill('KILL').catch(() => {}));
  await assert.rejects(closed.sendStdin('x'), (err) => err instanceof ConflictError && /stdin_open/.test(err.message));
});

test('files', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create());
  const files = sb.files;

  const info = await files.write('/root/dir/a.txt', 'héllo\n', { mkdirs: true, mode: 0o600 });
  assert.equal(info.type, 'file');
  assert.equal(info.size, Buffer.byteLength('héllo\n'));
  assert.equal(info.mode & 0o777, 0o600);
  assert.equal(await files.readText('/root/dir/a.txt'), 'héllo\n');
  assert.equal((await sb.exec('cat /root/dir/a.txt')).stdout, 'héllo\n');

  const binary = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
  await files.write('/root/dir/b.bin', binary);
  assert.deepEqual(await files.read('/root/dir/b.bin'), binary);

  const stream = new Blob(['streamed ', 'body']).stream();
  await files.write('/root/dir/c.txt', stream);
  assert.equal(await files.readText('/root/dir/c.txt'), 'streamed body');

  const chunks = [];
  for await (const c of await files.open('/root/dir/c.txt')) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString(), 'streamed body');

  const st = await files.stat('/root/dir');
  assert.equal(st.type, 'dir');
  assert.deepEqual((await files.list('/root/dir')).map((e) => e.name), ['a.txt', 'b.bin', 'c.txt']);
  assert.equal(await files.exists('/root/dir/nope'), false);
  await assert.rejects(files.read('/root/dir/nope'), NotFoundError);

  await files.mkdir('/root/x/y/z', { parents: true });
  assert.equal((await files.stat('/root/x/y/z')).type, 'dir');

  // A tree travels as a tar stream: download /root/dir, upload it elsewhere.
  const tar = new Uint8Array(await new Response(await files.download('/root/dir')).arrayBuffer());
  assert.ok(tar.length > 300_000);
  await files.upload('/tmp/copy', tar);
  assert.deepEqual(await files.read('/tmp/copy/dir/b.bin'), binary);

  await files.remove('/root/dir/a.txt');
  assert.equal(await files.exists('/root/dir/a.txt'), false);
  await files.remove('/root/dir', { recursive: true });
  assert.equal(await files.exists('/root/dir'), false);
});

checkAnswersAreDocumented();

test('egress policy', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create({ name: uniqueName('ts-egress'), egress: { default: 'deny', allow: ['API.example.com', '10.0.0.0/8'] } }));
  assert.deepEqual(sb.egress, { default: 'deny', allow: ['10.0.0.0/8', 'api.example.com'], deny: [] });
  const curl = await sb.exec('curl -s -m 3 -o /dev/null http://1.1.1.1/ && echo reached || echo blocked');
  assert.equal(curl.stdout.trim(), 'blocked');

  await sb.setEgress({ deny: ['192.0.2.0/24'] });
  assert.deepEqual(sb.egress, { default: 'allow', allow: [], deny: ['192.0.2.0/24'] });
  await assert.rejects(sb.setEgress({ allow: ['not a domain'] }), InvalidArgumentError);
  await sb.refresh();
  assert.deepEqual(sb.egress.deny, ['192.0.2.0/24'], 'a refused policy changes nothing');
});
