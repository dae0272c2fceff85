// The package as users get it: the ESM and CommonJS builds load through
// package.json "exports" with the same API, their declarations type-check
// the README's example, and nothing is needed at run time but Node.js.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

test('import and require give the same API', async () => {
  const esm = await import('runtools');
  const cjs = require('runtools');
  assert.deepEqual(Object.keys(cjs).filter((k) => k !== '__esModule').sort(), Object.keys(esm).sort());
  for (const name of ['Sandbox', 'Client', 'Watcher', 'Files', 'Computer', 'BackgroundProcess', 'NotFoundError', 'UnauthenticatedError']) {
    assert.equal(typeof esm[name], 'function', `ESM ${name}`);
    assert.equal(typeof cjs[name], 'function', `CJS ${name}`);
  }
  assert.match(require.resolve('runtools'), /dist\/cjs\/index\.js$/);
});

test('the error classes form one hierarchy', async () => {
  const m = await import('runtools');
  const kinds = ['NotFound', 'AlreadyExists', 'InvalidArgument', 'Conflict', 'Unavailable', 'Unauthenticated', 'PermissionDenied', 'ResourceExhausted', 'Internal', 'UnsupportedRuntime'];
  for (const kind of kinds) {
    const E = m[`${kind}Error`];
    const e = new E('msg', { code: 'c', status: 400 });
    assert.ok(e instanceof m.RuntoolsError && e instanceof Error, kind);
    assert.equal(e.name, `${kind}Error`);
    assert.equal(e.message, 'msg');
  }
});

test('no runtime dependencies', () => {
  assert.equal(pkg.dependencies, undefined, 'the SDK needs only Node.js 20 at run time');
  assert.equal(pkg.engines.node, '>=20');
  for (const dir of ['esm', 'cjs']) {
    const base = new URL(`../dist/${dir}/`, import.meta.url);
    for (const f of readdirSync(base).filter((x) => x.endsWith('.js'))) {
      const src = readFileSync(new URL(f, base), 'utf8');
      const specifiers = [
        ...src.matchAll(/^(?:import|export)\b[^;]*?\bfrom ['"]([^'"]+)['"]/gm),
        ...src.matchAll(/\brequire\(['"]([^'"]+)['"]\)/g),
      ].map((m) => m[1]);
      assert.ok(specifiers.length > 0 || f === 'types.js' || f === 'routes.js' || f === 'base64.js' || f === 'errors.js', `no imports found in ${f}`);
      assert.deepEqual(specifiers.filter((s) => !s.startsWith('./')), [], `dist/${dir}/${f} imports a module of its own`);
    }
  }
});

test('the declarations type-check the documented usage, for import and require', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', new URL('./types/tsconfig.json', import.meta.url).pathname], { encoding: 'utf8' });
  } catch (err) {
    assert.fail(`tsc found errors:\n${err.stdout}${err.stderr}`);
  }
});

test('the lock file names no registry host', () => {
  const lock = readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8');
  assert.doesNotMatch(lock, /"resolved":/, 'package-lock.json has resolved URLs: install with omit-lockfile-registry-resolved');
});
