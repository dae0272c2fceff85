// Reads api/openapi.yaml and answers requests from it: the drift test's
// view of the API, and a fake server made only of the file's examples.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export const spec = parse(readFileSync(new URL('../../../api/openapi.yaml', import.meta.url), 'utf8'));

export const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Resolves a $ref (only local ones are used). */
export function deref(node) {
  let n = node;
  while (n && n.$ref) {
    n = n.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((o, k) => o[k], spec);
  }
  return n;
}

/** Every operation as { key: 'GET /v1/...', method, path, op, params }. */
export function operations() {
  const out = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const params = [...(item.parameters ?? []), ...(item[m].parameters ?? [])].map(deref);
      out.push({ key: `${m.toUpperCase()} ${path}`, method: m.toUpperCase(), path, op: item[m], params });
    }
  }
  return out;
}

/** The operation a request is for, by method and path. */
export function match(method, pathname) {
  for (const o of operations()) {
    if (o.method !== method) continue;
    const re = new RegExp('^' + o.path.replace(/\{\w+\}/g, '[^/]+') + '$');
    if (re.test(pathname)) return o;
  }
  return undefined;
}

/** A value of schema with every property filled in. */
export function sample(schema) {
  const s = deref(schema);
  if (!s) return null;
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object': {
      const o = {};
      if (s.properties) for (const [k, v] of Object.entries(s.properties)) o[k] = sample(v);
      else if (s.additionalProperties) o.SOME_KEY = sample(s.additionalProperties);
      return o;
    }
    case 'array':
      return [sample(s.items)];
    case 'string':
      if (s.format === 'date-time') return '2026-01-02T03:04:05Z';
      if (s.format === 'byte') return 'aGk='; // "hi"
      return 'x';
    case 'integer':
      return 7;
    case 'number':
      return 1.5;
    case 'boolean':
      return true;
  }
  return null;
}

/** The 2xx answer of an operation: its status and, per content type, its schema. */
export function success(o) {
  for (const [code, r] of Object.entries(o.op.responses)) {
    if (code.startsWith('2')) return { status: Number(code), content: deref(r).content ?? {} };
  }
  throw new Error(`${o.key} has no 2xx answer`);
}

/** The schema of an operation's JSON request body, or undefined. */
export function requestSchema(o) {
  return deref(o.op.requestBody?.content?.['application/json']?.schema);
}

/** Every output event line a stream can carry, one of each type, every field used once at least. */
export function eventLines() {
  return [
    { type: 'start', pid: 7 },
    { type: 'stdout', data: 'aGk=' },
    { type: 'stderr', data: 'aGk=' },
    { type: 'error', message: 'x' },
    { type: 'exit', exit_code: 7, timed_out: true },
  ];
}

/**
 * A fetch that answers every request with the OpenAPI file's own shapes and
 * records it. respond(o, req) may answer first, for what a test controls.
 */
export function fakeFetch(respond) {
  const calls = [];
  const fetch = async (input, init = {}) => {
    if (init.signal?.aborted) throw init.signal.reason;
    return withAbort(await answer(input, init), init.signal);
  };
  const answer = async (input, init) => {
    const url = new URL(String(input));
    const method = init.method ?? 'GET';
    const o = match(method, url.pathname);
    let body = init.body;
    if (body instanceof ReadableStream) body = await new Response(body).arrayBuffer();
    const call = { o, method, url, headers: init.headers ?? {}, body, json: undefined };
    if (typeof body === 'string' && call.headers['Content-Type'] === 'application/json') call.json = JSON.parse(body);
    calls.push(call);
    if (!o) {
      return Response.json({ error: { code: 'not_found', message: `no route ${method} ${url.pathname}` } }, { status: 404 });
    }
    const own = respond?.(o, call);
    if (own) return own;
    const { status, content } = success(o);
    if (status === 204) return new Response(null, { status });
    if (content['application/x-ndjson']) {
      const schema = content['application/x-ndjson'].schema;
      const lines = schema.$ref?.endsWith('/Event') ? eventLines() : [{ ...sample(schema), error: undefined }];
      return new Response(lines.map((l) => JSON.stringify(l) + '\n').join(''), {
        status,
        headers: { 'Content-Type': 'application/x-ndjson' },
      });
    }
    if (content['application/json']) return Response.json(sample(content['application/json'].schema), { status });
    if (content['text/event-stream']) {
      const ev = sample(content['text/event-stream'].schema);
      const text =
        `id: 7\nevent: status\ndata: ${JSON.stringify({ type: 'status', seq: 7, status: ev.status })}\n\n` +
        `event: metrics\ndata: ${JSON.stringify({ type: 'metrics', metrics: ev.metrics })}\n\n`;
      return new Response(text, { status, headers: { 'Content-Type': 'text/event-stream' } });
    }
    return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { status });
  };
  return { fetch, calls };
}

/** The answer with a body that fails when signal aborts, as fetch's own does. */
function withAbort(res, signal) {
  if (!signal || !res.body) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream({
    start(c) {
      signal.addEventListener(
        'abort',
        () => {
          try {
            c.error(signal.reason);
          } catch {
            // already closed
          }
          reader.cancel().catch(() => {});
        },
        { once: true },
      );
    },
    async pull(c) {
      const { done, value } = await reader.read().catch(() => ({ done: true }));
      try {
        if (done) c.close();
        else c.enqueue(value);
      } catch {
        // aborted meanwhile
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, headers: res.headers });
}
