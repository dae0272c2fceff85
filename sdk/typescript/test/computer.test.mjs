// The computer-use calls on a real desktop sandbox: screenshot, screen
// size, cursor, windows, mouse, keyboard and launch.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Sandbox } from 'runtools';
import { checkAnswersAreDocumented, cleanup, client, eventually, needsServer, noServer } from './helpers.mjs';

async function desktopReady() {
  if (noServer) return false;
  const templates = await client().templates();
  return templates.some((x) => x.name === 'desktop' && x.status === 'ready');
}

const ready = await desktopReady();

test('computer use on a desktop sandbox', { ...needsServer, skip: noServer || (!ready && 'the desktop template is not built') }, async (t) => {
  const sb = cleanup(t, await Sandbox.create({ template: 'desktop' }));
  assert.equal(sb.desktop, true);
  const vnc = [];
  sb.on('status', (s) => vnc.push(s.vncReady));
  // As long as the daemon's own probe waits: a loaded machine starts a desktop slowly.
  await eventually('vncReady', () => vnc.includes(true), 180_000);
  sb.close();

  const pc = sb.computer;
  const png = await pc.screenshot();
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  const size = await pc.screenSize();
  assert.ok(size.width > 0 && size.height > 0, JSON.stringify(size));

  const moved = await pc.move(100, 120);
  assert.deepEqual(moved.cursor, { x: 100, y: 120 });
  assert.deepEqual(await pc.cursor(), { x: 100, y: 120 });

  const launched = await pc.launch('terminal');
  assert.ok(launched.pid > 0, JSON.stringify(launched));
  assert.ok(launched.window?.id, JSON.stringify(launched));
  const windows = await pc.windows();
  assert.ok(windows.some((w) => w.id === launched.window.id), JSON.stringify(windows));

  await pc.type('echo typed > /tmp/typed');
  await pc.key('Return');
  await eventually('the typed command to run', async () => (await sb.exec('cat /tmp/typed')).stdout === 'typed\n', 20_000);

  await pc.click(size.width / 2, size.height / 2);
  await pc.doubleClick(10, 10);
  await pc.rightClick(10, 10);
  await pc.key('Escape');
  await pc.scroll(2);
  const r = await pc.act({ action: 'scroll', x: 50, y: 60, dy: -1 });
  assert.deepEqual(r.cursor, { x: 50, y: 60 });
});

checkAnswersAreDocumented();
