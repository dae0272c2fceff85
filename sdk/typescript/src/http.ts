/**
 * The transport every call goes through: it builds URLs from the route
 * table, authenticates, and turns error answers and unreachable servers
 * into typed errors.
 */
import {
  InvalidArgumentError,
  RuntoolsError,
  UnauthenticatedError,
  UnavailableError,
  UnsupportedRuntimeError,
  errorFromResponse,
} from './errors.js';
import type { Route } from './routes.js';
import type { Wire } from './wire.js';

/** Environment variables the SDK reads, as the CLI does. */
export const ENV_URL = 'RUNTOOLS_URL';
export const ENV_API_KEY = 'RUNTOOLS_API_KEY';
/** Where a local server listens by default. */
export const DEFAULT_URL = 'http://127.0.0.1:7070';

const USER_AGENT = 'runtools-typescript-sdk';
/** Bounds one NDJSON or SSE line; output chunks are at most 32 KiB before base64. */
const MAX_LINE = 16 << 20;

/** What one request carries besides its route. */
export interface CallSpec {
  /** Values of the route's `{name}` path parameters. */
  params?: Record<string, string | number>;
  /** Query parameters; undefined ones are left out. */
  query?: Record<string, string | number | boolean | string[] | undefined>;
  /** A JSON body. */
  json?: unknown;
  /** A raw body (files, tar streams). */
  body?: Uint8Array | Blob | ReadableStream<Uint8Array> | string;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export type FetchFn = typeof fetch;

/**
 * A WebSocket constructor: the standard one of browsers, Deno, Bun and
 * Node.js 22+ (Node 20 and 21 with --experimental-websocket), or one
 * passed in ClientOptions.
 */
export type WebSocketCtor = abstract new (url: string, protocols?: string | string[]) => unknown;

/** What the SDK uses of a standard WebSocket. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
}

function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = p?.env?.[name];
  return v === '' ? undefined : v;
}

/** The server URL and key to use: the arguments, else RUNTOOLS_URL and RUNTOOLS_API_KEY. */
export function resolveConfig(url?: string, apiKey?: string): { url: string; apiKey: string } {
  const raw = url || env(ENV_URL) || DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = new URL('invalid:');
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.host === '') {
    throw new InvalidArgumentError(`server URL ${JSON.stringify(raw)} must look like http://host:port (set ${ENV_URL})`, {
      code: 'invalid_argument',
      status: 0,
    });
  }
  const key = apiKey || env(ENV_API_KEY);
  if (!key) {
    throw new UnauthenticatedError(`no API key: set ${ENV_API_KEY} or pass apiKey`, { code: 'unauthenticated', status: 0 });
  }
  return { url: raw.replace(/\/+$/, ''), apiKey: key };
}

export class Http {
  // Private in the language, so the key never shows in console.log or JSON.stringify.
  readonly #apiKey: string;
  readonly #fetch: FetchFn;
  readonly #webSocket: WebSocketCtor | undefined;

  constructor(
    readonly baseUrl: string,
    apiKey: string,
    fetchFn: FetchFn,
    webSocket?: WebSocketCtor,
  ) {
    this.#apiKey = apiKey;
    this.#fetch = fetchFn;
    this.#webSocket = webSocket;
  }

  /**
   * Opens a WebSocket to a route (ws: or wss: for http: or https:). The key
   * goes as the subprotocol bearer.<key> next to runtools, as browsers
   * authenticate, since a standard WebSocket cannot set headers.
   */
  webSocket(route: Route, spec: CallSpec = {}): WebSocketLike {
    const ctor = this.#webSocket ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (typeof ctor !== 'function') {
      throw new UnsupportedRuntimeError(
        'no WebSocket client: this JavaScript runtime has no global WebSocket. Use Node.js 22 or later, ' +
          'or run Node.js 20 or 21 with --experimental-websocket (e.g. NODE_OPTIONS=--experimental-websocket), ' +
          'or pass WebSocket in ClientOptions',
        { code: 'unsupported_runtime', status: 0 },
      );
    }
    const url = this.url(route, spec).replace(/^http/, 'ws');
    const Ctor = ctor as unknown as new (url: string, protocols: string[]) => WebSocketLike;
    return new Ctor(url, ['runtools', `bearer.${this.#apiKey}`]);
  }

  /** The full URL of a route with its parameters. */
  url(route: Route, spec: CallSpec = {}): string {
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = spec.params?.[name];
      if (v === undefined || v === '') {
        throw new InvalidArgumentError(`${route.method} ${route.path}: missing ${name}`, { code: 'invalid_argument', status: 0 });
      }
      return encodeURIComponent(String(v));
    });
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (Array.isArray(v)) for (const each of v) q.append(k, each);
      else if (v !== undefined) q.set(k, String(v));
    }
    const qs = q.toString();
    return this.baseUrl + path + (qs ? '?' + qs : '');
  }

  /** Sends a request; answers that are not 2xx become typed errors. */
  async send(route: Route, spec: CallSpec = {}): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#apiKey}`,
      'User-Agent': USER_AGENT,
      ...spec.headers,
    };
    let body: RequestInit['body'];
    if (spec.json !== undefined) {
      body = JSON.stringify(spec.json);
      headers['Content-Type'] = 'application/json';
    } else if (spec.body !== undefined) {
      body = spec.body as RequestInit['body'];
      headers['Content-Type'] = spec.contentType ?? 'application/octet-stream';
    }
    if (spec.accept) headers['Accept'] = spec.accept;
    const init: RequestInit & { duplex?: 'half' } = { method: route.method, headers, body, signal: spec.signal };
    if (body instanceof ReadableStream) init.duplex = 'half';
    let res: Response;
    try {
      res = await this.#fetch(this.url(route, spec), init);
    } catch (err) {
      if (spec.signal?.aborted || err instanceof RuntoolsError) throw err;
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new UnavailableError(
        `cannot reach runtools server at ${this.baseUrl}: ${why} (is \`runtools server\` running? check ${ENV_URL})`,
        { code: 'unavailable', status: 0, cause: err },
      );
    }
    if (res.ok) return res;
    throw await errorFromResponse(res);
  }

  /** Sends a request and decodes its JSON answer. */
  async json(route: Route, spec: CallSpec = {}): Promise<Wire> {
    const res = await this.send(route, spec);
    const text = await reading(() => res.text(), spec.signal);
    try {
      return JSON.parse(text) as Wire;
    } catch (err) {
      throw new RuntoolsError(`decoding the answer of ${route.method} ${route.path}: ${String(err)}`, {
        code: 'internal',
        status: res.status,
        cause: err,
      });
    }
  }

  /** Sends a request whose answer has no body worth reading. */
  async empty(route: Route, spec: CallSpec = {}): Promise<void> {
    const res = await this.send(route, spec);
    await reading(() => res.arrayBuffer(), spec.signal);
  }

  /** Sends a request and reads the whole answer as bytes. */
  async bytes(route: Route, spec: CallSpec = {}): Promise<Uint8Array> {
    const res = await this.send(route, spec);
    return new Uint8Array(await reading(() => res.arrayBuffer(), spec.signal));
  }

  /**
   * Sends a request that answers NDJSON and calls onLine with each line
   * decoded, until the stream ends or onLine returns true.
   */
  async ndjson(route: Route, spec: CallSpec, onLine: (w: Wire) => boolean | void): Promise<void> {
    const res = await this.send(route, { ...spec, accept: 'application/x-ndjson' });
    let stopped = false;
    await readLines(res, (line) => {
      if (stopped || line.trim() === '') return;
      let w: Wire;
      try {
        w = JSON.parse(line) as Wire;
      } catch (err) {
        throw new RuntoolsError(`decoding a line of ${route.method} ${route.path}: ${String(err)}`, {
          code: 'internal',
          status: res.status,
          cause: err,
        });
      }
      if (onLine(w) === true) stopped = true;
    }, spec.signal);
  }
}

/** Reads an answer's body; a connection that breaks meanwhile is an UnavailableError. */
async function reading<T>(read: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (signal?.aborted || (err instanceof Error && err.name === 'AbortError')) throw err;
    throw broken(err);
  }
}

function broken(err: unknown): UnavailableError {
  return new UnavailableError(`the connection to the server broke: ${err instanceof Error ? err.message : String(err)}`, {
    code: 'unavailable',
    status: 0,
    cause: err,
  });
}

/** Calls onLine with each line of an answer, without its line ending. */
export async function readLines(res: Response, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buf += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      }
      if (buf.length > MAX_LINE) {
        throw new RuntoolsError(`a line of the answer is longer than ${MAX_LINE} bytes`, { code: 'internal', status: res.status });
      }
      if (done) break;
    }
    if (buf !== '') onLine(buf);
  } catch (err) {
    await reader.cancel().catch(() => {});
    // An abort (AbortError, or TimeoutError of AbortSignal.timeout) is the caller's, not a broken connection.
    if (err instanceof RuntoolsError || signal?.aborted || (err instanceof Error && err.name === 'AbortError')) throw err;
    throw broken(err);
  } finally {
    reader.releaseLock();
  }
}
