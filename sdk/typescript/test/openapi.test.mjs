// The drift test: the SDK and api/openapi.yaml cannot part ways unnoticed.
//
// Statically, every operation of the OpenAPI file is in the SDK's route
// table (src/routes.ts) or in EXCLUDED below, every route of the table is
// in the file, and every request of the SDK goes through the table.
// Dynamically, every call of the SDK runs against a fake server made from
// the OpenAPI file itself: its paths, query parameters and JSON fields
// must be declared there, and every field the file says an answer has
// must reach the SDK's result.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';

import { Client } from '../dist/esm/index.js';
import { routes } from '../dist/esm/routes.js';
import { deref, eventLines, fakeFetch, match, operations, requestSchema, sample, success } from './openapi.mjs';

// Operations of api/openapi.yaml the SDK deliberately does not call.
const EXCLUDED = {
  // Prometheus metrics of the whole server, in Prometheus' text format, for
  // an operator's scrape job with an admin key: not part of the sandbox API.
  'GET /metrics': 'operator metrics for Prometheus',
  // The browser terminal: a WebSocket for the dashboard's xterm.js.
  'GET /v1/sandboxes/{ref}/terminal': 'interactive WebSocket terminal for the dashboard',
  // The browser desktop: RFB over a WebSocket for the dashboard's noVNC.
  'GET /v1/sandboxes/{ref}/vnc': "WebSocket of the desktop's VNC (RFB) for the dashboard",
  // The MCP server, for MCP clients (Claude, Cursor, ...), not an SDK call.
  'POST /mcp': 'the MCP server (streamable HTTP) for MCP clients',
  'GET /mcp': "the MCP server's stream (stateless here: 405)",
  'DELETE /mcp': "the MCP server's session end (stateless here: 405)",
};

// Request fields the server accepts (client.CreateRequest in the Go SDK,
// decoded by internal/apiserver) that api/openapi.yaml does not list yet.
// The test fails once the file lists them: then remove them here.
const UNDOCUMENTED_FIELDS = {};

const sdkKeys = Object.values(routes).map((r) => `${r.method} ${r.path}`);
const specKeys = operations().map((o) => o.key);

test('every OpenAPI operation is called by the SDK or excluded on purpose', () => {
  const missing = specKeys.filter((k) => !sdkKeys.includes(k) && !(k in EXCLUDED));
  assert.deepEqual(missing, [], 'operations in api/openapi.yaml that the SDK does not call: add them to src/routes.ts and use them, or to EXCLUDED with a reason');
});

test('every SDK route is an OpenAPI operation', () => {
  const unknown = sdkKeys.filter((k) => !specKeys.includes(k));
  assert.deepEqual(unknown, [], 'routes of src/routes.ts that api/openapi.yaml does not have');
  assert.equal(new Set(sdkKeys).size, sdkKeys.length, 'a route is in src/routes.ts twice');
});

test('the exclusions are real operations the SDK does not call', () => {
  for (const k of Object.keys(EXCLUDED)) {
    assert.ok(specKeys.includes(k), `${k} is excluded but is not in api/openapi.yaml`);
    assert.ok(!sdkKeys.includes(k), `${k} is excluded but the SDK calls it`);
  }
});

test('every request of the SDK goes through the route table, and every route is used', () => {
  const dir = new URL('../src/', import.meta.url);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'routes.ts');
  const text = sources.map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
  for (const f of sources) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    assert.doesNotMatch(src, /['"`]\/(v1|metrics)\b/, `src/${f} names an API path: put it in src/routes.ts`);
  }
  const unused = Object.keys(routes).filter((name) => !new RegExp(`routes\\.${name}\\b`).test(text));
  assert.deepEqual(unused, [], 'routes of src/routes.ts that no call uses');
});

function camel(k) {
  return k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

/** The fields of schema that out lacks, as paths. */
function uncovered(schema, out, path = '') {
  const s = deref(schema);
  if (out === undefined || out === null) return [path || '(the answer)'];
  if (s.type === 'array') {
    return Array.isArray(out) && out.length > 0 ? uncovered(s.items, out[0], path + '[0]') : [path + ': not a list'];
  }
  if (s.type !== 'object') {
    // The fake's values are distinctive ("x", 7, 1.5, true, a date), so a
    // field read under a wrong name shows as the SDK's default instead.
    const want = sample(s);
    if (s.format === 'byte') return [];
    if (s.format === 'date-time') {
      return out instanceof Date && out.getTime() === Date.parse(want) ? [] : [`${path}: ${String(out)}, want the date ${want}`];
    }
    return out === want ? [] : [`${path}: ${JSON.stringify(out)}, want ${JSON.stringify(want)}`];
  }
  if (!s.properties) return s.additionalProperties && !('SOME_KEY' in out) ? [path + ': map keys were changed'] : [];
  const props = Object.entries(s.properties);
  // A list answer {things: [...]} is the list itself in the SDK.
  if (Array.isArray(out) && props.length === 1 && deref(props[0][1]).type === 'array') {
    return uncovered(props[0][1], out, `${path}.${props[0][0]}`);
  }
  const missing = [];
  for (const [k, v] of props) {
    const p = `${path}.${k}`;
    if (out[camel(k)] === undefined) missing.push(`${p} (as ${camel(k)})`);
    else missing.push(...uncovered(v, out[camel(k)], p));
  }
  return missing;
}

/** What is wrong with one request, against the operation it names. */
function requestProblems(call) {
  const o = call.o;
  if (!o) return [`${call.method} ${call.url.pathname} is not in api/openapi.yaml`];
  const problems = [];
  const declared = o.params.filter((p) => p.in === 'query').map((p) => p.name);
  for (const q of call.url.searchParams.keys()) {
    if (!declared.includes(q)) problems.push(`${o.key}: query parameter ${q} is not declared`);
  }
  for (const p of o.params.filter((p) => p.in === 'query' && p.required)) {
    if (!call.url.searchParams.has(p.name)) problems.push(`${o.key}: required query parameter ${p.name} is missing`);
  }
  const content = o.op.requestBody?.content ?? {};
  if (call.json !== undefined) {
    const schema = requestSchema(o);
    if (!schema) return [...problems, `${o.key}: sends JSON, but the operation takes none`];
    const known = Object.keys(schema.properties ?? {});
    for (const k of Object.keys(call.json)) {
      if (!known.includes(k) && !(UNDOCUMENTED_FIELDS[o.key] ?? []).includes(k)) {
        problems.push(`${o.key}: field ${k} is not in the request schema`);
      }
    }
    for (const k of schema.required ?? []) {
      if (!(k in call.json)) problems.push(`${o.key}: required field ${k} is missing`);
    }
  } else if (call.body !== undefined) {
    const ct = call.headers['Content-Type'];
    if (!content[ct]) problems.push(`${o.key}: sends ${ct}, the operation takes ${Object.keys(content).join(', ') || 'no body'}`);
  } else if (o.op.requestBody?.required) {
    problems.push(`${o.key}: the request body is required`);
  }
  return problems;
}

/** The JSON schema of an operation's answer. */
function answerSchema(route) {
  const o = operations().find((x) => x.key === `${route.method} ${route.path}`);
  return success(o).content['application/json']?.schema;
}

/**
 * A WebSocket that plays exec attach's server side from the OpenAPI file:
 * it records the upgrade as a call, checks the first message against
 * AttachRequest, and answers start, output on both streams, and exit.
 */
function fakeWebSocket(calls) {
  const attachRequest = deref({ $ref: '#/components/schemas/AttachRequest' });
  const messageTypes = deref({ $ref: '#/components/schemas/AttachMessage' }).properties.type.enum;
  const sent = [];
  class FakeWebSocket {
    constructor(url, protocols) {
      const u = new URL(url);
      assert.equal(u.protocol, 'ws:');
      assert.deepEqual(protocols, ['runtools', 'bearer.k']);
      u.protocol = 'http:';
      calls.push({ o: match('GET', u.pathname), method: 'GET', url: u, headers: {}, body: undefined, json: undefined });
      this.readyState = 0;
      setTimeout(() => ((this.readyState = 1), this.onopen?.({})));
    }
    send(data) {
      sent.push(data);
      if (sent.length === 1) {
        const req = JSON.parse(data);
        const known = Object.keys(attachRequest.properties);
        assert.deepEqual(Object.keys(req).filter((k) => !known.includes(k)), [], 'fields of the first message not in AttachRequest');
        for (const k of attachRequest.required) assert.ok(k in req, `the first message lacks ${k}`);
        const text = (m) => setTimeout(() => this.onmessage?.({ data: JSON.stringify(m) }));
        const bin = (b) => setTimeout(() => this.onmessage?.({ data: new Uint8Array(b).buffer }));
        text({ type: 'start' });
        bin([1, 0x68, 0x69]);
        bin([2, 0x68, 0x69]);
        return;
      }
      if (typeof data === 'string') {
        const m = JSON.parse(data);
        assert.ok(messageTypes.includes(m.type), `control ${m.type} is not an AttachMessage type`);
        if (m.type === 'eof') {
          setTimeout(() => {
            this.onmessage?.({ data: JSON.stringify({ type: 'exit', exit_code: 7, timed_out: true }) });
            this.readyState = 3;
            this.onclose?.({ code: 1000, reason: 'exit 7' });
          });
        }
      }
    }
    close() {
      this.readyState = 3;
    }
  }
  return { FakeWebSocket, sent };
}

test('every SDK call matches api/openapi.yaml, in its request and its answer', async () => {
  const { fetch, calls } = fakeFetch();
  const { FakeWebSocket, sent } = fakeWebSocket(calls);
  const c = new Client({ url: 'http://runtools.test', apiKey: 'k', fetch, WebSocket: FakeWebSocket });
  const answers = []; // [route, what the SDK returned]
  const got = (route, v) => (answers.push([route, v]), v);

  got(routes.me, await c.me());
  got(routes.listTemplates, await c.templates());
  got(routes.getTemplate, await c.template('base'));
  got(routes.templateHistory, await c.templateHistory('my-app'));
  await c.removeTemplate('my-app');
  got(routes.updateTemplate, await c.setTemplatePublic('my-app', true, 'acme'));
  got(routes.getTemplate, await c.buildCustomTemplate('my-app', { context: new Uint8Array(1024), dockerfile: 'Dockerfile', buildArgs: { A: '1' }, noCache: true }));
  got(routes.getTemplate, await c.buildCustomTemplate('py', { image: 'python:3.12-slim' }));
  got(routes.getTemplate, await c.buildCustomTemplate('legacy', { imageArchive: new Uint8Array(1024) }));
  const progress = [];
  await c.buildTemplate('base', (p) => progress.push(p));
  got(routes.listSshKeys, await c.sshKeys());
  got(routes.addSshKey, await c.addSshKey('k', 'ssh-ed25519 AAAA k'));
  await c.removeSshKey('k');
  got(routes.listWebhooks, await c.webhooks());
  got(routes.createWebhook, await c.createWebhook({ url: 'https://example.com/hook', events: ['created', 'limit'] }));
  await c.removeWebhook('wh_1');
  got(routes.webhookDeliveries, await c.webhookDeliveries('wh_1', { limit: 10 }));
  got(routes.listTeams, await c.teams());
  got(routes.createTeam, await c.createTeam('t'));
  got(routes.getTeam, await c.team('t'));
  got(routes.updateTeam, await c.updateTeam('t', { maxSandboxes: 2, maxVcpus: 4, maxMemoryMb: 8192, maxDiskBytes: 1 << 30, maxBuilds: -1 }));
  got(routes.usage, await c.usage('t'));
  got(routes.listKeys, await c.keys());
  got(routes.createKey, await c.createKey({ name: 'n', team: 't', admin: true }));
  await c.deleteKey('n');
  got(routes.listNodes, await c.nodes());
  got(routes.setNodeState, await c.cordon('n2'));
  assert.deepEqual(calls.at(-1).json, { state: 'cordoned' });
  got(routes.setNodeState, await c.uncordon('n2'));
  assert.deepEqual(calls.at(-1).json, { state: 'ready' });
  const drained = await c.drain('n2', () => assert.fail('the fake sends only the summary'));
  got(routes.createVolume, await c.createVolume('data', { sizeMb: 64 }));
  got(routes.listVolumes, await c.volumes());
  got(routes.getVolume, await c.volume('data'));
  await c.removeVolume('data');
  const vf = c.volumeFiles('data');
  await vf.read('/a');
  await vf.open('/a');
  got(routes.writeVolumeFile, await vf.write('/a', 'data', { mode: 0o600, mkdirs: true }));
  got(routes.statVolumeFile, await vf.stat('/a'));
  got(routes.listVolumeFiles, await vf.list('/'));
  got(routes.mkdirVolume, await vf.mkdir('/d', { parents: true }));
  await vf.remove('/d', { recursive: true });

  got(routes.listSandboxes, await c.list({ all: true }));
  got(routes.listSandboxes, await c.list({ labels: { app: 'web', env: 'prod' } }));
  assert.deepEqual(calls.at(-1).url.searchParams.getAll('label'), ['app=web', 'env=prod']);
  const sb = got(
    routes.createSandbox,
    await c.create({
      name: 'n', template: 'base', vcpus: 2, memory: 1024, env: { A: 'b' }, metadata: { m: 'v' },
      idleTimeout: 60, public: true, ports: [4000], password: 'long-secret-1', egress: { default: 'deny', allow: ['a.example'] },
      disk: 'ephemeral', autoStart: false, labels: { app: 'web' }, timeout: 300, onTimeout: 'pause',
      volumes: [{ volume: 'data', path: '/mnt/data', readOnly: true }],
    }),
  );
  got(routes.getSandbox, await c.get('x'));
  await c.connect('x');
  got(routes.updateSandbox, await sb.update({ idleTimeout: 5, public: false, autoStart: true }));
  got(routes.updateSandbox, await sb.update({ timeout: 600, onTimeout: 'destroy', labels: { env: 'prod' }, removeLabels: ['app'] }));
  got(routes.setEgress, await sb.setEgress({ default: 'deny', allow: ['example.com'], deny: ['10.0.0.0/8'] }));
  got(routes.pause, await sb.pause());
  got(routes.resume, await sb.resume());
  got(routes.stop, await sb.stop());
  got(routes.start, await sb.boot());
  got(routes.events, await sb.events());
  got(routes.takeSnapshot, await sb.snapshot('s'));
  got(routes.takeSnapshot, await sb.snapshot('golden', { pin: true }));
  got(routes.listSnapshots, await sb.snapshots());
  await sb.deleteSnapshot('s');
  got(routes.rollback, await sb.rollback('s'));
  got(routes.fork, await sb.fork({ name: 'f', snapshot: 's' }));
  got(routes.saveSandbox, await sb.save('saved'));
  got(routes.moveSandbox, await c.move('x', 'n2'));
  assert.deepEqual(calls.at(-1).json, { node: 'n2' });
  got(routes.moveSandbox, await sb.move());
  got(routes.expose, await sb.expose(4000));
  got(routes.unexpose, await sb.unexpose(4000));
  got(routes.signedLink, await sb.signedLink(4000, { ttlSeconds: 60 }));

  const evs = [];
  const res = await sb.exec(['sh', '-c', 'x'], { env: { A: 'b' }, cwd: '/', user: 'u', timeoutMs: 5, stdin: 'in', onEvent: (e) => evs.push(e) });
  const p = got(routes.startProcess, await sb.start('x', { env: { A: 'b' }, cwd: '/', user: 'u', timeoutMs: 5, stdin: 'in' }));
  got(routes.listProcesses, await sb.processes());
  await sb.runCode('1+1', { language: 'python', context: 'ctx-1', timeoutMs: 5, env: { A: 'b' } }).catch((err) => {
    if (!/ended before the cell did/.test(String(err))) throw err; // the fake's stream has no end event
  });
  const cc = got(routes.createCodeContext, await sb.createCodeContext({ language: 'javascript', cwd: '/root' }));
  got(routes.listCodeContexts, await sb.codeContexts());
  got(routes.restartCodeContext, await sb.restartCodeContext(cc));
  await sb.deleteCodeContext(cc.id || 'ctx-1');
  await p.output({ follow: true });
  await p.kill('TERM');
  const attached = [];
  const session = await sb.attach('x', {
    env: { A: 'b' }, cwd: '/', user: 'u', timeoutMs: 5, tty: true, cols: 100, rows: 30,
    onStdout: (t) => attached.push(['out', t]), onStderr: (t) => attached.push(['err', t]),
  });
  session.write('in');
  session.resize(120, 40);
  session.signal('INT');
  session.closeStdin();
  const attachResult = await session.wait();
  assert.deepEqual(attachResult, { stdout: 'hi', stderr: 'hi', exitCode: 7, timedOut: true });
  assert.deepEqual(attached, [['out', 'hi'], ['err', 'hi']]);
  assert.deepEqual(JSON.parse(sent[0]), {
    cmd: ['sh', '-c', 'x'], env: { A: 'b' }, cwd: '/', user: 'u', timeout_ms: 5, tty: true, cols: 100, rows: 30,
  });
  assert.deepEqual(sent[1], new TextEncoder().encode('in'));
  assert.deepEqual(sent.slice(2).map((m) => JSON.parse(m)), [
    { type: 'resize', cols: 120, rows: 40 }, { type: 'signal', signal: 'INT' }, { type: 'eof' },
  ]);
  const open = await sb.start('x', { stdinOpen: true });
  await open.sendStdin('in');
  await open.closeStdin();

  const f = sb.files;
  await f.read('/a');
  await f.open('/a');
  got(routes.writeFile, await f.write('/a', 'data', { mode: 0o600, mkdirs: true }));
  got(routes.statFile, await f.stat('/a'));
  got(routes.listFiles, await f.list('/'));
  got(routes.mkdir, await f.mkdir('/d', { parents: true }));
  await f.remove('/d', { recursive: true });
  await f.download('/d');
  await f.upload('/d', new Uint8Array([1, 2, 3]));

  const pc = sb.computer;
  await pc.screenshot();
  got(routes.screenSize, await pc.screenSize());
  got(routes.cursor, await pc.cursor());
  got(routes.windows, await pc.windows());
  got(routes.computerAction, await pc.act({ action: 'click', x: 1, y: 2, button: 'right', count: 2, dx: 1, dy: 1, text: 't', keys: ['a'], app: 'a', args: ['b'] }));
  await pc.move(1, 2);
  await pc.click(1, 2, { button: 'middle' });
  await pc.doubleClick(1, 2);
  await pc.rightClick(1, 2);
  await pc.scroll(3, { dx: 1, x: 1, y: 2 });
  await pc.type('t');
  await pc.key('ctrl+l', 'Return');
  await pc.launch('firefox', 'about:blank');

  const live = await new Promise((resolve, reject) => {
    const seen = {};
    const done = () => seen.status && seen.metrics && (sb.close(), resolve(seen));
    sb.on('error', reject);
    sb.on('status', (s) => ((seen.status = s), done()));
    sb.on('metrics', (m) => ((seen.metrics = m), done()));
  });
  const team = await new Promise((resolve, reject) => {
    const w = c.watch();
    w.on('error', reject).on('status', (s) => (w.close(), resolve(s)));
  });
  got(routes.destroySandbox, await c.destroy('x'));
  await sb.destroy();

  // Requests: paths, query parameters and fields are all declared.
  const problems = calls.flatMap(requestProblems);
  assert.deepEqual(problems, []);

  // Every route was exercised above.
  const exercised = new Set(calls.map((x) => x.o?.key));
  assert.deepEqual(sdkKeys.filter((k) => !exercised.has(k)), [], 'routes the test above does not call: add them');

  // The fields the server documented for now-undocumented request fields are still missing there.
  for (const [key, fields] of Object.entries(UNDOCUMENTED_FIELDS)) {
    const o = operations().find((x) => x.key === key);
    const listed = fields.filter((k) => k in (requestSchema(o).properties ?? {}));
    assert.deepEqual(listed, [], `api/openapi.yaml now documents these fields of ${key}: remove them from UNDOCUMENTED_FIELDS`);
  }

  // Answers: every documented field reaches the SDK's result.
  const missing = [];
  for (const [route, value] of answers) {
    for (const m of uncovered(answerSchema(route), value)) missing.push(`${route.method} ${route.path}: ${m}`);
  }
  const schemas = (name) => deref({ $ref: `#/components/schemas/${name}` });
  missing.push(...uncovered(schemas('ExecResult'), res).map((m) => `exec result: ${m}`));
  missing.push(...uncovered(schemas('WatchEvent').properties.status, live.status).map((m) => `status: ${m}`));
  missing.push(...uncovered(schemas('WatchEvent').properties.metrics, live.metrics).map((m) => `metrics: ${m}`));
  missing.push(...uncovered(schemas('WatchEvent').properties.status, team).map((m) => `team status: ${m}`));
  const progressFields = { ...schemas('TemplateProgress'), properties: { ...schemas('TemplateProgress').properties } };
  delete progressFields.properties.error; // the fake sends a build that worked
  missing.push(...uncovered(progressFields, progress[0]).map((m) => `template progress: ${m}`));
  const drainFields = { ...schemas('DrainEvent'), properties: { ...schemas('DrainEvent').properties } };
  delete drainFields.properties.error; // the fake's drain moved every sandbox
  missing.push(...uncovered(drainFields, drained).map((m) => `drain summary: ${m}`));
  const eventFields = Object.keys(schemas('Event').properties).map(camel);
  const seenFields = new Set(evs.flatMap((e) => Object.keys(e)));
  missing.push(...eventFields.filter((k) => !seenFields.has(k)).map((k) => `exec event: ${k}`));
  assert.deepEqual(missing, []);

  assert.equal(evs.length, eventLines().length);
  assert.deepEqual(res, { stdout: 'hi', stderr: 'hi', exitCode: 7, timedOut: true, error: 'x' });
  assert.equal(live.status.seq, 7);
  assert.equal(sample({ type: 'integer' }), 7);
});
