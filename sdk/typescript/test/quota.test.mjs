// The error a team's quota refused a request with says which limit, its
// use, the limit and what to do.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NotFoundError, ResourceExhaustedError } from '../dist/esm/index.js';
import { errorFromResponse } from '../dist/esm/errors.js';

const answer = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

test('a quota error carries its quota', async () => {
  const quota = { name: 'sandboxes', unit: 'sandboxes', used: 2, limit: 2, requested: 1, hint: 'pause, stop or destroy a sandbox' };
  const err = await errorFromResponse(answer(429, { error: { code: 'resource_exhausted', message: 'quota exceeded', quota } }));
  assert.ok(err instanceof ResourceExhaustedError);
  assert.equal(err.status, 429);
  assert.deepEqual(err.quota, quota);
  const disk = await errorFromResponse(answer(403, { error: { code: 'resource_exhausted', message: 'm', quota: { name: 'disk_bytes', unit: 'bytes', used: 5, limit: 4 } } }));
  assert.ok(disk instanceof ResourceExhaustedError);
  assert.equal(disk.quota.name, 'disk_bytes');
  const other = await errorFromResponse(answer(404, { error: { code: 'not_found', message: 'm' } }));
  assert.ok(other instanceof NotFoundError);
  assert.equal(other.quota, undefined);
});
