// The live stream's reconnection, without a server: a fake that ends
// streams, fails, and records what each reconnection asked for.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Client, NotFoundError } from '../dist/esm/index.js';
import { fakeFetch } from './openapi.mjs';

function sse(events, { end = true } = {}) {
  const text = events
    .map((e) =>
      e.type === 'status'
        ? `id: ${e.seq}\nevent: status\ndata: ${JSON.stringify(e)}\n\n`
        : `: keep-alive\n\nevent: metrics\r\ndata: ${JSON.stringify(e)}\r\n\r\n`,
    )
    .join('');
  if (end) return new Response(text, { headers: { 'Content-Type': 'text/event-stream' } });
  // A stream that stays open after its events, until the client aborts.
  const body = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode(text)) });
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
}

const status = (seq, state) => ({ type: 'status', seq, status: { sandbox_id: 's', state, ssh_ready: state === 'running', at: '2026-01-02T03:04:05Z' } });
const metrics = (cpu) => ({ type: 'metrics', metrics: { sandbox_id: 's', cpu_percent: cpu } });

function until(what, ok, ms = 5000) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => (ok() ? resolve() : Date.now() > deadline ? reject(new Error(`timed out: ${what}`)) : setTimeout(poll, 10));
    poll();
  });
}

test('a dropped stream is made again, resuming after the last status change', async () => {
  const streams = [
    () => sse([status(10, 'running'), status(11, 'pausing')]),
    () => new Response('{"error":{"code":"unavailable","message":"restarting"}}', { status: 503 }),
    () => sse([status(12, 'paused'), status(13, 'resuming')]),
    () => sse([status(14, 'running')], { end: false }),
  ];
  let n = 0;
  const { fetch, calls } = fakeFetch((o) => (o.key.endsWith('/watch') ? streams[Math.min(n++, streams.length - 1)]() : undefined));
  const sb = new Client({ url: 'http://runtools.test', apiKey: 'k', fetch }).sandbox('s');
  const seen = [];
  sb.on('status', (s) => seen.push(`${s.seq}:${s.status}`));
  await until('five changes', () => seen.length === 5);
  sb.close();
  assert.deepEqual(seen, ['10:running', '11:pausing', '12:paused', '13:resuming', '14:running']);
  const watches = calls.filter((c) => c.o.key.endsWith('/watch'));
  assert.deepEqual(
    watches.map((c) => c.url.searchParams.get('after')),
    [null, '11', '11', '13'],
    'each new stream resumes after the last change delivered',
  );
  assert.ok(watches.every((c) => c.url.searchParams.get('metrics') === 'false'), 'no metrics without a metrics listener');
  assert.ok(watches.every((c) => c.headers.Accept === 'text/event-stream'));
});

test('a metrics listener reopens the stream with metrics, resuming', async () => {
  let n = 0;
  const { fetch, calls } = fakeFetch((o) =>
    o.key.endsWith('/watch') ? (n++ === 0 ? sse([status(5, 'running')], { end: false }) : sse([metrics(42)], { end: false })) : undefined,
  );
  const sb = new Client({ url: 'http://runtools.test', apiKey: 'k', fetch }).sandbox('s');
  const got = [];
  sb.on('status', (s) => got.push(s.status));
  await until('the status', () => got.length === 1);
  sb.on('metrics', (m) => got.push(m.cpuPercent));
  await until('the metrics', () => got.length === 2);
  sb.close();
  assert.deepEqual(got, ['running', 42]);
  const watches = calls.filter((c) => c.o.key.endsWith('/watch'));
  assert.equal(watches.length, 2);
  assert.equal(watches[1].url.searchParams.get('after'), '5');
  assert.equal(watches[1].url.searchParams.has('metrics'), false);
});

test('an answer that trying again would not fix ends the watch with an error', async () => {
  const { fetch, calls } = fakeFetch((o) =>
    o.key.endsWith('/watch') ? Response.json({ error: { code: 'not_found', message: 'no sandbox "s"' } }, { status: 404 }) : undefined,
  );
  const w = new Client({ url: 'http://runtools.test', apiKey: 'k', fetch }).sandbox('s');
  const err = await new Promise((resolve) => w.on('error', resolve).on('status', () => {}));
  assert.ok(err instanceof NotFoundError);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(calls.length, 1, 'no retry after a 404');
  w.close();
});

test('a listener that throws is reported, and the others still run', async () => {
  const { fetch } = fakeFetch((o) => (o.key.endsWith('/watch') ? sse([status(1, 'running')], { end: false }) : undefined));
  const w = new Client({ url: 'http://runtools.test', apiKey: 'k', fetch }).watch();
  const errors = [];
  const ok = [];
  w.on('error', (e) => errors.push(e.message));
  w.on('status', () => {
    throw new Error('listener bug');
  });
  w.on('status', (s) => ok.push(s.status));
  await until('both listeners', () => errors.length === 1 && ok.length === 1);
  w.close();
  await w.closed();
  assert.deepEqual(errors, ['listener bug']);
});

test('removing the last listener closes the stream', async () => {
  let aborted = false;
  const { fetch } = fakeFetch((o, call) => {
    if (!o.key.endsWith('/watch')) return undefined;
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(`id: 1\nevent: status\ndata: ${JSON.stringify(status(1, 'running'))}\n\n`));
        },
        cancel() {
          aborted = true;
        },
      }),
    );
  });
  const sb = new Client({ url: 'http://runtools.test', apiKey: 'k', fetch }).sandbox('s');
  const fn = () => {};
  let got = 0;
  sb.on('status', fn).on('status', () => got++);
  await until('an event', () => got === 1);
  sb.off('status', fn);
  sb.off('status');
  await until('the stream to close', () => aborted);
});

test("the team's watch asks for metrics only while a metrics listener is there", async () => {
  let n = 0;
  const { fetch, calls } = fakeFetch((o) =>
    o.key === 'GET /v1/watch' ? (n++ === 0 ? sse([status(7, 'running')], { end: false }) : sse([metrics(12)], { end: false })) : undefined,
  );
  const watcher = new Client({ url: 'http://runtools.test', apiKey: 'k', fetch }).watch();
  const got = [];
  watcher.on('status', (s) => got.push(s.status));
  await until('the status', () => got.length === 1);
  watcher.on('metrics', (m) => got.push(`${m.sandboxId}:${m.cpuPercent}`));
  await until('the metrics', () => got.length === 2);
  watcher.close();
  assert.deepEqual(got, ['running', 's:12']);
  const watches = calls.filter((c) => c.o.key === 'GET /v1/watch');
  assert.equal(watches.length, 2);
  assert.equal(watches[0].url.searchParams.has('metrics'), false, 'no metrics without a metrics listener');
  assert.equal(watches[1].url.searchParams.get('metrics'), 'true');
  assert.equal(watches[1].url.searchParams.get('after'), '7');
});
