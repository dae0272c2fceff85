// verifyWebhook against the known answer the Go tests also check
// (api/wire/webhook_test.go): the same secret, time and body give the
// same signature in every SDK.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RuntoolsError, verifyWebhook } from '../dist/esm/index.js';

const body =
  '{"id":"evt_1","type":"created","created_at":"2026-03-01T12:00:00Z","team":"team-a","sandbox":{"id":"sandbox-abc","name":"web","template":"base","state":"running","labels":{"app":"web"}},"data":{"from":"creating","to":"running","reason":"created"}}';
const sig = 't=1800000000,v1=0b7e639c2189b721f988211e47f6d6e94e0b9ee3e82f45ac2e7927dbec43924e';
const at = new Date(1800000000 * 1000);

test('a signed delivery verifies and decodes', async () => {
  const ev = await verifyWebhook('whsec_x', sig, body, { now: new Date(at.getTime() + 60_000) });
  assert.equal(ev.id, 'evt_1');
  assert.equal(ev.type, 'created');
  assert.equal(ev.sandbox?.labels.app, 'web');
  assert.equal(ev.data.reason, 'created');
  assert.equal(ev.createdAt.toISOString(), '2026-03-01T12:00:00.000Z');
});

test('a changed body, a wrong secret, an old or malformed signature are refused', async () => {
  const refused = async (secret, header, b, now = at) =>
    assert.rejects(verifyWebhook(secret, header, b, { now }), (e) => e instanceof RuntoolsError && e.code === 'unauthenticated');
  await refused('whsec_x', sig, body.replace('web', 'wab'));
  await refused('whsec_y', sig, body);
  await refused('whsec_x', sig, body, new Date(at.getTime() + 301_000));
  await refused('whsec_x', 't=1800000000', body);
  await refused('whsec_x', null, body);
});
