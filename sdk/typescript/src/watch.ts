/**
 * Live status changes and metrics over Server-Sent Events, with
 * reconnection that resumes after the last status change delivered, so
 * none is lost or repeated (see client/watch.go for the Go version).
 */
import { RuntoolsError } from './errors.js';
import { readLines } from './http.js';
import type { Http } from './http.js';
import type { Route } from './routes.js';
import type { Metrics, Status } from './types.js';
import { metricsFromWire, obj, statusFromWire } from './wire.js';
import type { Wire } from './wire.js';

/** The events of a watch and what their listeners receive. */
export interface WatchEvents {
  /** A state change; the first one is the current state. */
  status: (status: Status) => void;
  /** Resource use, every second while the sandbox runs; a team's watch has one per running sandbox each second (`metrics.sandboxId` says whose). */
  metrics: (metrics: Metrics) => void;
  /** The watch stopped for good (the key or the sandbox is gone), or a listener threw. */
  error: (err: Error) => void;
}

export type WatchEventName = keyof WatchEvents;

/** Options of a watch. */
export interface WatchOptions {
  /** Resume after the status change with this seq; default: start with the current state. */
  after?: number;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

/** Whether a watch that failed with err may work if made again. */
function retryable(err: unknown): boolean {
  if (err instanceof RuntoolsError) return err.status === 0 || err.status >= 500;
  return true; // the server is restarting, the network dropped
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * How a stream is asked for metrics: a sandbox's has them unless the
 * request says metrics=false; the team's only when it says metrics=true.
 * @internal
 */
export type MetricsQuery = 'opt-out' | 'opt-in';

/**
 * A live stream of status changes and metrics of one sandbox, or of every
 * sandbox of the team (the metrics of each running one). It connects when
 * the first status or metrics listener is added, asks for metrics only
 * while a metrics listener is there, and reconnects by itself (with
 * backoff, resuming by seq) until close(), or until the last listener is
 * removed. While it runs it keeps a Node.js process alive.
 */
export class Watcher {
  private readonly listeners: { [K in WatchEventName]: Set<WatchEvents[K]> } = {
    status: new Set(),
    metrics: new Set(),
    error: new Set(),
  };
  private after: number;
  private running: Promise<void> = Promise.resolve();
  private conn: AbortController | undefined;
  private stop: AbortController | undefined;
  private connectedWithMetrics = false;

  /** @internal */
  constructor(
    private readonly http: Http,
    private readonly route: Route,
    private readonly params: Record<string, string>,
    private readonly metricsQuery: MetricsQuery,
    opts: WatchOptions = {},
  ) {
    this.after = opts.after ?? 0;
  }

  /** The seq of the last status change delivered (0 before any). */
  get seq(): number {
    return this.after;
  }

  /** Adds a listener; the first status or metrics listener starts the stream. */
  on<K extends WatchEventName>(event: K, listener: WatchEvents[K]): this {
    this.listeners[event].add(listener);
    this.ensureRunning();
    return this;
  }

  /** Removes a listener (or, without one, all of that event's); removing the last one stops the stream. */
  off<K extends WatchEventName>(event: K, listener?: WatchEvents[K]): this {
    if (listener) this.listeners[event].delete(listener);
    else this.listeners[event].clear();
    if (!this.wanted()) this.halt();
    else if (this.connectedWithMetrics && this.listeners.metrics.size === 0) this.conn?.abort();
    return this;
  }

  /** Stops the stream and removes every listener. */
  close(): void {
    for (const set of Object.values(this.listeners)) set.clear();
    this.halt();
  }

  /** Resolves once the stream has stopped (after close, or a fatal error). */
  async closed(): Promise<void> {
    await this.running;
  }

  private wanted(): boolean {
    return this.listeners.status.size + this.listeners.metrics.size > 0;
  }

  private wantsMetrics(): boolean {
    return this.listeners.metrics.size > 0;
  }

  private halt(): void {
    this.stop?.abort();
    this.conn?.abort();
  }

  private ensureRunning(): void {
    if (!this.wanted()) return;
    if (this.stop && !this.stop.signal.aborted) {
      // A metrics listener joined a stream opened without metrics: open it again, resuming.
      if (this.wantsMetrics() && !this.connectedWithMetrics) this.conn?.abort();
      return;
    }
    const stop = new AbortController();
    this.stop = stop;
    // The loop marks itself stopped when it ends, so a later on() starts a new one.
    this.running = this.run(stop.signal).finally(() => stop.abort());
  }

  private async run(stop: AbortSignal): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!stop.aborted && this.wanted()) {
      const conn = new AbortController();
      this.conn = conn;
      const state = { got: false };
      try {
        await this.once(conn.signal, state);
      } catch (err) {
        if (!conn.signal.aborted && !retryable(err)) {
          this.fail(err instanceof Error ? err : new Error(String(err)));
          return;
        }
      }
      if (stop.aborted) return;
      if (conn.signal.aborted) continue; // reopened on purpose (metrics listeners changed)
      if (state.got) backoff = MIN_BACKOFF_MS;
      await sleep(backoff, stop);
      backoff = Math.min(2 * backoff, MAX_BACKOFF_MS);
    }
  }

  /** Reads one stream until it ends. */
  private async once(signal: AbortSignal, state: { got: boolean }): Promise<void> {
    const metrics = this.wantsMetrics();
    this.connectedWithMetrics = metrics;
    const res = await this.http.send(this.route, {
      params: this.params,
      query: {
        after: this.after > 0 ? this.after : undefined,
        metrics: this.metricsQuery === 'opt-in' ? (metrics ? true : undefined) : metrics ? undefined : false,
      },
      accept: 'text/event-stream',
      signal,
    });
    let data: string[] = [];
    await readLines(res, (line) => {
      if (signal.aborted) return;
      if (line === '') {
        if (data.length === 0) return;
        const text = data.join('\n');
        data = [];
        state.got = true;
        this.dispatch(JSON.parse(text) as Wire);
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // id: repeats the status event's seq, event: its type; comments (":") are heartbeats.
    }, signal);
  }

  private dispatch(w: Wire): void {
    if (w.type === 'status' && w.status) {
      const seq = typeof w.seq === 'number' ? w.seq : 0;
      this.emit('status', statusFromWire(obj(w.status), seq));
      if (seq > 0) this.after = seq;
    } else if (w.type === 'metrics' && w.metrics) {
      this.emit('metrics', metricsFromWire(obj(w.metrics)));
    }
  }

  private emit<K extends 'status' | 'metrics'>(event: K, value: Parameters<WatchEvents[K]>[0]): void {
    for (const fn of [...this.listeners[event]]) {
      try {
        (fn as (v: typeof value) => void)(value);
      } catch (err) {
        this.report(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** Ends the watch with err, which goes to the error listeners. */
  private fail(err: Error): void {
    this.report(err);
  }

  /** Hands err to the error listeners; with none, it is thrown, as EventEmitter does. */
  private report(err: Error): void {
    if (this.listeners.error.size === 0) {
      queueMicrotask(() => {
        throw err;
      });
      return;
    }
    for (const fn of [...this.listeners.error]) fn(err);
  }
}
