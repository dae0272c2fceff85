// The few API calls the dashboard makes. Every /v1 request carries the key
// as a bearer header; the key lives in sessionStorage, never in a URL.

export interface Sandbox {
  id: string; name: string; template: string; state: string; stop_reason?: string;
  vcpus: number; memory_mb: number; disk?: 'durable' | 'ephemeral'; auto_start?: boolean; idle_timeout: number; ports: number[];
  urls?: { port: number; url: string }[]; desktop?: boolean; vnc_ready?: boolean;
  limit_hit?: string; ip?: string; egress?: Egress; created_at: string;
}
// Where a sandbox may connect outside its team's network: rules are IPv4
// addresses, CIDRs or domains ("*.example.com" covers its subdomains), and
// deny rules win over allow rules, allow rules over the default.
export interface Egress { default: 'allow' | 'deny'; allow?: string[]; deny?: string[] }
export interface Metrics {
  sandbox_id: string; at: string; cpu_percent: number; mem_percent: number; mem_bytes: number;
  mem_limit_bytes: number; net_rx_bytes_per_sec: number; net_tx_bytes_per_sec: number;
}
export interface Status { sandbox_id: string; state: string; reason?: string; vnc_ready: boolean }
export interface WatchEvent { type: 'status' | 'metrics'; seq?: number; status?: Status; metrics?: Metrics }
export interface Snapshot { id: string; name: string; size_bytes: number; created_at: string }
export interface Template {
  name: string; description: string; status: string; size_bytes: number; built_at?: string; error?: string;
  packages?: Record<string, string>; tracked?: string[];
  // A team's own template, built from a Dockerfile, an image or a sandbox.
  custom?: boolean; version?: number; team?: string; public?: boolean; built_by?: string; from?: string;
  dockerfile?: string; layers?: { id: string; created_by: string; size_bytes: number }[];
  config?: { env?: string[]; workdir?: string; user?: string; entrypoint?: string[]; cmd?: string[]; ports?: number[]; labels?: Record<string, string> };
}
// Quota is one of a team's limits with its use (limit 0: none).
export interface Quota { name: string; unit: string; used: number; limit: number; requested?: number; hint?: string }
export interface TeamUsage {
  team: string; quotas: Quota[];
  disk: { paused_bytes: number; snapshot_bytes: number; volume_bytes: number; template_bytes: number };
}
// BuildProgress is one line of a template build's stream.
export interface BuildProgress {
  template: string; step: string; detail?: string; elapsed_ms: number; done?: boolean; error?: string;
  index?: number; total?: number; line?: number; cached?: boolean; code?: string;
}

const KEY = 'runtools.key';
export const key = () => sessionStorage.getItem(KEY) ?? '';
export const setKey = (k: string) => (k ? sessionStorage.setItem(KEY, k) : sessionStorage.removeItem(KEY));

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const resp = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${key()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!resp.ok) {
    throw new ApiError(resp.status, data?.error?.code ?? 'error', data?.error?.message ?? resp.statusText);
  }
  return data as T;
}

const sb = (ref: string) => `/v1/sandboxes/${encodeURIComponent(ref)}`;
const tp = (name: string) => `/v1/templates/${encodeURIComponent(name)}`;
export const api = {
  me: () => call<{ team: string }>('GET', '/v1/me'),
  usage: () => call<{ teams: TeamUsage[] }>('GET', '/v1/usage').then((r) => r.teams),
  list: () => call<{ sandboxes: Sandbox[] }>('GET', '/v1/sandboxes').then((r) => r.sandboxes),
  get: (ref: string) => call<Sandbox>('GET', sb(ref)),
  create: (req: object) => call<Sandbox>('POST', '/v1/sandboxes', req),
  destroy: (ref: string) => call<Sandbox>('DELETE', sb(ref)),
  pause: (ref: string) => call<Sandbox>('POST', `${sb(ref)}/pause`),
  resume: (ref: string) => call<Sandbox>('POST', `${sb(ref)}/resume`),
  stop: (ref: string) => call<Sandbox>('POST', `${sb(ref)}/stop`),
  start: (ref: string) => call<Sandbox>('POST', `${sb(ref)}/start`),
  templates: () => call<{ templates: Template[] }>('GET', '/v1/templates').then((r) => r.templates),
  template: (name: string) => call<Template>('GET', tp(name)),
  history: (name: string) => call<{ versions: Template[] }>('GET', `${tp(name)}/history`).then((r) => r.versions ?? []),
  removeTemplate: (name: string) => call<unknown>('DELETE', tp(name)),
  setPublic: (name: string, pub: boolean) => call<Template>('PATCH', tp(name), { public: pub }),
  save: (ref: string, template: string) => call<Template>('POST', `${sb(ref)}/save`, { template }),
  snapshots: (ref: string) => call<{ snapshots: Snapshot[] }>('GET', `${sb(ref)}/snapshots`).then((r) => r.snapshots),
  snapshot: (ref: string, name: string) => call<Snapshot>('POST', `${sb(ref)}/snapshots`, name ? { name } : {}),
  rollback: (ref: string, snapshot: string) => call<Sandbox>('POST', `${sb(ref)}/rollback`, { snapshot }),
  fork: (ref: string, snapshot: string, name: string) => call<Sandbox>('POST', `${sb(ref)}/fork`, { snapshot, ...(name ? { name } : {}) }),
  setEgress: (ref: string, egress: Egress) => call<Sandbox>('PUT', `${sb(ref)}/egress`, egress),
  link: (ref: string, port: number) => call<{ url: string }>('POST', `${sb(ref)}/links`, { port }),
  terminalURL: (ref: string, cols: number, rows: number) => `${ws()}${sb(ref)}/terminal?cols=${cols}&rows=${rows}`,
  vncURL: (ref: string) => `${ws()}${sb(ref)}/vnc`,
};

const ws = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;

// watch reads a sandbox's (or with ref "", the team's) Server-Sent Events
// with fetch, since EventSource cannot send the key, until signal aborts.
// It reconnects after a break, resuming after the last status seen. A
// sandbox's stream has its metrics; the team's has those of every running
// sandbox with metrics: true.
export async function watch(ref: string, onEvent: (ev: WatchEvent) => void, signal: AbortSignal, opts: { metrics?: boolean } = {}): Promise<void> {
  let after = '';
  while (!signal.aborted) {
    try {
      const q = new URLSearchParams();
      if (!ref && opts.metrics) q.set('metrics', 'true');
      if (after) q.set('after', after);
      const path = (ref ? `${sb(ref)}/watch` : '/v1/watch') + (q.size ? `?${q}` : '');
      const resp = await fetch(path, { headers: { Authorization: `Bearer ${key()}` }, signal });
      if (!resp.ok || !resp.body) throw new Error(`watch: ${resp.status}`);
      for await (const block of pieces(resp.body, '\n\n')) {
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (!data) continue;
        const ev = JSON.parse(data) as WatchEvent;
        if (ev.type === 'status' && ev.seq) after = String(ev.seq);
        onEvent(ev);
      }
    } catch {
      if (signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// build builds a custom template from a build context (a tar) or, with
// query image=REF and no body, from an image, calling onProgress with each
// line of the build's stream. It returns the last line: done, with error
// set if the build failed.
export async function build(name: string, query: URLSearchParams, body: Uint8Array<ArrayBuffer> | undefined, onProgress: (p: BuildProgress) => void): Promise<BuildProgress> {
  const resp = await fetch(`${tp(name)}/build?${query}`, {
    method: 'POST', headers: { Authorization: `Bearer ${key()}`, ...(body ? { 'Content-Type': 'application/x-tar' } : {}) }, body,
  });
  if (!resp.ok || !resp.body) {
    const data = await resp.json().catch(() => undefined);
    throw new ApiError(resp.status, data?.error?.code ?? 'error', data?.error?.message ?? resp.statusText);
  }
  let last: BuildProgress | undefined;
  for await (const line of pieces(resp.body, '\n')) {
    if (!line.trim()) continue;
    last = JSON.parse(line) as BuildProgress;
    onProgress(last);
  }
  if (!last?.done) throw new Error('the build\'s stream ended early: see the server\'s log, then build again');
  return last;
}

// pieces yields the text of a stream piece by piece, each ending at sep.
async function* pieces(body: ReadableStream<Uint8Array<ArrayBuffer>>, sep: string): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end;
    while ((end = buf.indexOf(sep)) >= 0) {
      yield buf.slice(0, end);
      buf = buf.slice(end + sep.length);
    }
  }
}
