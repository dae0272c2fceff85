// Shared by the tests that talk to a real server: where it is, sandboxes
// that are destroyed when a test ends, and a record of the server's answers
// to check against api/openapi.yaml.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Client } from 'runtools';
import { deref, match } from './openapi.mjs';

/** Why the server tests cannot run, or '' when they can. */
export const noServer =
  process.env.RUNTOOLS_URL && process.env.RUNTOOLS_API_KEY
    ? ''
    : 'set RUNTOOLS_URL and RUNTOOLS_API_KEY to run the tests against a real server';

if (noServer && process.env.RUNTOOLS_SDK_REQUIRE_SERVER === '1') {
  throw new Error(noServer);
}

/** Options for test(): skipped without a server. */
export const needsServer = { skip: noServer || false, timeout: 180_000 };

/** A client of the server under test (RUNTOOLS_URL, RUNTOOLS_API_KEY). */
export function client() {
  return new Client();
}

let seq = 0;

/** A name no other test run uses. */
export function uniqueName(prefix) {
  seq++;
  return `${prefix}-${process.pid}-${seq}-${Date.now().toString(36)}`;
}

/** Destroys sb when the test t ends, whatever happened. */
export function cleanup(t, sb) {
  t.after(async () => {
    sb.close();
    await sb.destroy().catch(() => {});
  });
  return sb;
}

/** Resolves once ok() holds, polling; rejects after ms. */
export async function eventually(what, ok, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await ok();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Every JSON and NDJSON answer the server gives in this test file, through
// any client, kept to check against the OpenAPI file.
const answers = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const res = await realFetch(input, init);
  const type = res.headers.get('content-type') ?? '';
  if (res.ok && /^application\/(json|x-ndjson)/.test(type)) {
    const url = new URL(String(input));
    answers.push({ method: init.method ?? 'GET', path: url.pathname, type, text: res.clone().text().catch(() => '') });
  }
  return res;
};

/** The fields of value that schema does not declare, as paths. */
function undeclared(schema, value, path) {
  const s = deref(schema);
  if (!s || value === null || typeof value !== 'object') return [];
  if (s.type === 'array') return Array.isArray(value) ? value.flatMap((v) => undeclared(s.items, v, path + '[]')) : [];
  if (s.type !== 'object' || !s.properties) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k in s.properties ? undeclared(s.properties[k], v, `${path}.${k}`) : [`${path}.${k}`],
  );
}

/**
 * Adds the file's last test: every field of every answer the server gave
 * to this file's tests is declared in api/openapi.yaml (the drift test
 * checks the other direction).
 */
export function checkAnswersAreDocumented() {
  test("the server's answers have only fields api/openapi.yaml declares", needsServer, async () => {
    assert.ok(answers.length > 0, 'no answers were recorded');
    const problems = new Set();
    for (const a of answers) {
      const o = match(a.method, a.path);
      if (!o) {
        problems.add(`${a.method} ${a.path}: not in api/openapi.yaml`);
        continue;
      }
      const status = Object.keys(o.op.responses).find((c) => c.startsWith('2'));
      const content = deref(o.op.responses[status]).content ?? {};
      const kind = a.type.startsWith('application/json') ? 'application/json' : 'application/x-ndjson';
      const schema = content[kind]?.schema;
      if (!schema) {
        problems.add(`${o.key}: answered ${kind}, which is not documented`);
        continue;
      }
      const text = await a.text;
      const values = kind === 'application/json' ? [JSON.parse(text)] : text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      for (const v of values) for (const p of undeclared(schema, v, '')) problems.add(`${o.key}: ${p}`);
    }
    assert.deepEqual([...problems], [], 'fields the server sends that api/openapi.yaml does not declare');
  });
}
