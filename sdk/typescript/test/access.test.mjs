// Dev-server URLs, access tokens and signed links; SSH keys; typed errors;
// the identity, templates, teams and API keys; computer use refused on a
// sandbox that is not a desktop. Against a real server.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';

import {
  AlreadyExistsError,
  Client,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  RuntoolsError,
  Sandbox,
  UnauthenticatedError,
  UnavailableError,
} from 'runtools';
import { checkAnswersAreDocumented, cleanup, client, eventually, needsServer, uniqueName } from './helpers.mjs';

/**
 * GETs a dev-server URL. Its host (*.sandboxes.localhost) need not resolve
 * here: the request goes to 127.0.0.1 at the URL's port with the URL's Host.
 */
function getVia(rawUrl, headers = {}) {
  const u = new URL(rawUrl);
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: u.port || 80, path: u.pathname + u.search, headers: { Host: u.host, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
  });
}

/** A fresh ed25519 public key as one authorized_keys line. */
function sshPublicKey(comment) {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (b) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

test('URLs, access tokens, signed links, expose, public', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create({ ports: [4000] }));
  assert.ok(sb.ports.includes(8000) && sb.ports.includes(4000), JSON.stringify(sb.ports));
  const url = sb.url(8000);
  assert.match(url, new RegExp(`^http://8000-${sb.id}\\.`));
  assert.ok(sb.accessToken);

  await sb.files.write('/srv/index.html', 'served by the sandbox', { mkdirs: true });
  await sb.start('cd /srv && exec python3 -m http.server 8000');
  const ok = await eventually('the dev server', async () => {
    const r = await getVia(url, { 'X-Runtools-Access-Token': sb.accessToken });
    return r.status === 200 ? r : undefined;
  });
  assert.match(ok.body, /served by the sandbox/);
  assert.equal((await getVia(url)).status, 401, 'a private URL needs the token');

  const link = await sb.signedLink(8000, { ttlSeconds: 120 });
  assert.ok(link.expiresAt.getTime() > Date.now() + 60_000);
  const viaLink = await getVia(link.url);
  assert.equal(viaLink.status >= 300 && viaLink.status < 400, true, `signed link: HTTP ${viaLink.status}`);
  const cookie = String(viaLink.headers['set-cookie']).split(';')[0];
  assert.equal((await getVia(new URL(viaLink.headers.location, link.url).href, { Cookie: cookie })).status, 200);

  await sb.update({ public: true });
  assert.equal(sb.public, true);
  assert.equal((await getVia(url)).status, 200, 'a public URL needs no token');
  await sb.update({ public: false });

  await sb.expose(9000);
  assert.ok(sb.ports.includes(9000));
  assert.ok(sb.url(9000));
  await sb.unexpose(9000);
  assert.ok(!sb.ports.includes(9000));
  await assert.rejects(sb.expose(49983), InvalidArgumentError, 'the agent port is never exposed');
});

test('SSH keys: add, list, remove', needsServer, async () => {
  const c = client();
  const name = uniqueName('ts-key');
  const pub = sshPublicKey('sdk-test');
  const key = await c.addSshKey(name, pub);
  assert.equal(key.name, name);
  assert.match(key.fingerprint, /^SHA256:/);
  assert.equal(key.publicKey.split(' ').slice(0, 2).join(' '), pub.split(' ').slice(0, 2).join(' '));
  assert.ok((await c.sshKeys()).some((k) => k.id === key.id));
  await assert.rejects(c.addSshKey(name, sshPublicKey('again')), AlreadyExistsError);
  await c.removeSshKey(name);
  assert.ok(!(await c.sshKeys()).some((k) => k.id === key.id));
  await assert.rejects(c.removeSshKey(name), NotFoundError);
  await assert.rejects(c.addSshKey(uniqueName('ts-bad'), 'not a key'), InvalidArgumentError);
});

test('typed errors', needsServer, async () => {
  const err = await Sandbox.get('no-such-sandbox').catch((e) => e);
  assert.ok(err instanceof NotFoundError, String(err));
  assert.ok(err instanceof RuntoolsError);
  assert.equal(err.code, 'not_found');
  assert.equal(err.status, 404);
  assert.equal(err.name, 'NotFoundError');
  assert.match(err.message, /no-such-sandbox/);

  const bad = new Client({ apiKey: 'not-a-key' });
  const unauth = await bad.list().catch((e) => e);
  assert.ok(unauth instanceof UnauthenticatedError, String(unauth));
  assert.equal(unauth.status, 401);
  await assert.rejects(Sandbox.create({}, { apiKey: 'not-a-key' }), UnauthenticatedError);

  await assert.rejects(Sandbox.create({ vcpus: 99 }), InvalidArgumentError);
  const named = await Sandbox.create({ name: uniqueName('ts-taken') });
  try {
    const taken = await Sandbox.create({ name: named.name }).catch((e) => e);
    assert.ok(taken instanceof AlreadyExistsError, String(taken));
    assert.equal(taken.status, 409);
  } finally {
    await named.destroy();
  }
  await assert.rejects(Sandbox.create({ template: 'no-such-template' }), NotFoundError);

  const gone = new Client({ url: 'http://127.0.0.1:1' });
  const down = await gone.me().catch((e) => e);
  assert.ok(down instanceof UnavailableError, String(down));
  assert.equal(down.status, 0);
  assert.match(down.message, /cannot reach runtools server/);

  assert.throws(() => new Client({ url: 'ftp://x' }), InvalidArgumentError);
  const saved = process.env.RUNTOOLS_API_KEY;
  delete process.env.RUNTOOLS_API_KEY;
  try {
    assert.throws(() => new Client(), UnauthenticatedError);
  } finally {
    process.env.RUNTOOLS_API_KEY = saved;
  }
});

test('identity, templates, teams and API keys', needsServer, async (t) => {
  const admin = client();
  const me = await admin.me();
  assert.equal(me.admin, true, 'the tests run with the admin key');

  const templates = await admin.templates();
  const base = templates.find((x) => x.name === 'base');
  assert.equal(base?.status, 'ready', JSON.stringify(templates));
  const steps = [];
  const last = await admin.buildTemplate('base', (p) => steps.push(p));
  assert.equal(last.done, true);
  assert.ok(steps.length >= 1);

  const teamName = uniqueName('ts-team');
  const team = await admin.createTeam(teamName);
  assert.equal(team.name, teamName);
  assert.ok((await admin.teams()).some((x) => x.id === team.id));

  const key = await admin.createKey({ name: uniqueName('ts-apikey'), team: teamName });
  assert.ok(key.secret, 'the secret comes with the answer that created the key');
  assert.equal(key.admin, false);
  assert.ok((await admin.keys()).some((k) => k.id === key.id && !k.secret));

  // A key of another team sees none of this team's sandboxes.
  const other = new Client({ apiKey: key.secret });
  assert.equal((await other.me()).team, teamName);
  const mine = cleanup(t, await Sandbox.create());
  await assert.rejects(other.get(mine.id), NotFoundError);
  await assert.rejects(other.createTeam(uniqueName('ts-nope')), PermissionDeniedError);

  await admin.deleteKey(key.id);
  await assert.rejects(other.me(), UnauthenticatedError);
});

test('computer use needs a desktop sandbox', needsServer, async (t) => {
  const sb = cleanup(t, await Sandbox.create());
  assert.equal(sb.desktop, false);
  await assert.rejects(sb.computer.screenshot(), ConflictError);
  await assert.rejects(sb.computer.click(10, 10), ConflictError);
});

checkAnswersAreDocumented();
