// Pause and resume, snapshots, rollback and fork, and the live events
// that report them, against a real server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AlreadyExistsError, NotFoundError, Sandbox } from 'runtools';
import { checkAnswersAreDocumented, cleanup, eventually, needsServer, uniqueName } from './helpers.mjs';

test("pause, resume and on('status'|'metrics')", needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create({ name: uniqueName('ts-live') }));
  const states = [];
  const statuses = [];
  const metrics = [];
  const onStatus = (s) => {
    states.push(s.status);
    statuses.push(s);
  };
  sb.on('status', onStatus);
  await eventually('the current state first', () => states.length > 0);
  assert.equal(states[0], 'running', 'a new watch starts with the current state');
  assert.equal(statuses[0].sshReady, true, 'this server runs the SSH gateway');
  assert.equal(statuses[0].vncReady, false, 'not a desktop');
  assert.equal(statuses[0].sandboxId, sb.id);

  sb.on('metrics', (m) => metrics.push(m));
  await sb.exec('head -c 20000000 /dev/urandom | sha256sum'); // some CPU to see
  await eventually('a metrics event', () => metrics.length > 0, 15_000);
  const m = metrics[0];
  assert.equal(m.sandboxId, sb.id);
  for (const k of ['cpuPercent', 'memPercent', 'memBytes', 'memLimitBytes', 'netRxBytesPerSec', 'netTxBytesPerSec', 'diskUsedBytes', 'diskLimitBytes']) {
    assert.equal(typeof m[k], 'number', k);
  }
  assert.ok(m.memLimitBytes > 0 && m.memBytes > 0, JSON.stringify(m));
  assert.ok(m.at instanceof Date);

  // A process keeps its memory across the pause.
  await sb.exec('echo kept > /dev/shm/marker');
  await sb.pause();
  assert.equal(sb.state, 'paused');
  await sb.resume();
  assert.equal(sb.state, 'running');
  assert.equal((await sb.exec('cat /dev/shm/marker')).stdout, 'kept\n');

  await eventually('pausing, paused, resuming, running', () => {
    const i = states.indexOf('pausing');
    return i >= 0 && states.slice(i).join(' ').startsWith('pausing paused resuming running');
  });
  const seqs = statuses.slice(1).map((s) => s.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'status changes come in order');
  assert.equal(new Set(seqs).size, seqs.length, 'no status change twice');

  // Use wakes a paused sandbox by itself.
  await sb.pause();
  assert.equal((await sb.exec('echo awake')).stdout, 'awake\n');
  await sb.refresh();
  assert.equal(sb.state, 'running');

  sb.off('status', onStatus);
  const before = states.length;
  sb.off('metrics');
  await sb.pause();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(states.length, before, 'no events after off()');
  const connected = await Sandbox.connect(sb.id);
  assert.equal(connected.state, 'running', 'connect resumes a paused sandbox');
});

test('a watch made separately resumes after a seq', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create());
  const first = [];
  const w1 = sb.watch().on('status', (s) => first.push(s));
  await eventually('the current state', () => first.length === 1);
  await sb.pause();
  await eventually('paused', () => first.some((s) => s.status === 'paused'));
  w1.close();
  await w1.closed();
  await sb.resume();

  // Resuming after the "paused" change delivers what came since, and only that.
  const paused = first.find((s) => s.status === 'paused');
  const second = [];
  const w2 = sb.watch({ after: paused.seq }).on('status', (s) => second.push(s.status));
  t.after(() => w2.close());
  await eventually('resuming, running', () => second.join(' ') === 'resuming running');
});

test('snapshot, rollback, fork', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create({ name: uniqueName('ts-snap') }));
  await sb.files.write('/root/state', 'before');
  const snap = await sb.snapshot('before');
  assert.equal(snap.name, 'before');
  assert.ok(snap.sizeBytes > 0);
  assert.ok(snap.createdAt instanceof Date);
  assert.equal(sb.state, 'running', 'a snapshot leaves the sandbox running');
  await assert.rejects(sb.snapshot('before'), AlreadyExistsError);

  await sb.files.write('/root/state', 'after');
  await sb.rollback('before');
  assert.equal(sb.state, 'running');
  assert.equal(await sb.files.readText('/root/state'), 'before');

  await sb.files.write('/root/state', 'later');
  const auto = await sb.snapshot();
  assert.ok(auto.name, 'a snapshot without a name gets one');
  assert.deepEqual((await sb.snapshots()).map((s) => s.name), ['before', auto.name]);
  await sb.rollback(); // the latest
  assert.equal(await sb.files.readText('/root/state'), 'later');

  const fork = cleanup(t, await sb.fork({ name: uniqueName('ts-fork'), snapshot: 'before' }));
  assert.notEqual(fork.id, sb.id);
  assert.equal(fork.state, 'running');
  assert.equal(await fork.files.readText('/root/state'), 'before');
  const current = cleanup(t, await sb.fork());
  assert.equal(await current.files.readText('/root/state'), 'later', 'a fork without a snapshot takes the current state');

  await sb.deleteSnapshot(auto.name);
  assert.deepEqual((await sb.snapshots()).map((s) => s.name), ['before']);
  await assert.rejects(sb.rollback('no-such-snapshot'), NotFoundError);
});

checkAnswersAreDocumented();
