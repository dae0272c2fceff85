/**
 * Interactive exec: a command whose stdin streams over a WebSocket while
 * it runs (GET /v1/sandboxes/{ref}/exec/attach), as `docker exec -i`, or
 * with tty `docker exec -it`. It needs a global WebSocket (browsers, Deno,
 * Bun, Node.js 22+, Node.js 20 and 21 with --experimental-websocket) or
 * one passed in ClientOptions.
 */
import { RuntoolsError, UnavailableError, codeOfStatus, errorFor } from './errors.js';
import type { Http, WebSocketLike } from './http.js';
import { OutputSink, argv } from './process.js';
import type { Command } from './process.js';
import { routes } from './routes.js';
import type { ExecResult, StreamCallbacks } from './types.js';

/** How to attach to a command. */
export interface AttachOptions extends StreamCallbacks {
  /** Added to the sandbox's environment. */
  env?: Record<string, string>;
  /** Absolute working directory. */
  cwd?: string;
  /** A name, uid or uid:gid; default root. */
  user?: string;
  /** Kill the command after this long; its exit code is then 124 and timedOut true. */
  timeoutMs?: number;
  /** Run it on a terminal: stdout and stderr are then one stream, stdout. */
  tty?: boolean;
  /** The terminal's width (default 80) and height (default 24), with tty. */
  cols?: number;
  rows?: number;
  /**
   * Stops the session: its abort closes the WebSocket (the command is
   * killed, as by close) and rejects attach, or later wait, with the
   * signal's reason, as fetch does (an AbortError, or a TimeoutError for
   * AbortSignal.timeout). A signal aborted already rejects at once,
   * without connecting. Once the command exited, an abort changes nothing.
   */
  signal?: AbortSignal;
}

/** The first byte of an output message: its stream. */
const STDOUT = 1;
const STDERR = 2;
/** A close code of 4000 plus an HTTP status is a request that failed after the upgrade. */
const CLOSE_ERROR = 4000;
const OPEN = 1;

function attachBody(cmd: Command, o: AttachOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { cmd: argv(cmd) };
  if (o.env !== undefined) body.env = o.env;
  if (o.cwd !== undefined) body.cwd = o.cwd;
  if (o.user !== undefined) body.user = o.user;
  if (o.timeoutMs !== undefined) body.timeout_ms = o.timeoutMs;
  if (o.tty) body.tty = true;
  if (o.cols !== undefined) body.cols = o.cols;
  if (o.rows !== undefined) body.rows = o.rows;
  return body;
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

interface Message {
  type?: unknown;
  code?: unknown;
  message?: unknown;
  exit_code?: unknown;
  timed_out?: unknown;
}

/**
 * A command attached over a WebSocket, from Sandbox.attach: write to its
 * stdin while it runs, and wait for its exit. Its output goes to the
 * callbacks of AttachOptions as it comes, and is collected for wait.
 */
export class AttachSession {
  readonly #ws: WebSocketLike;
  readonly #done: Promise<ExecResult>;

  /** @internal Use Sandbox.attach. */
  constructor(ws: WebSocketLike, done: Promise<ExecResult>) {
    this.#ws = ws;
    this.#done = done;
  }

  // Once the session ended (the command exited, or close), there is no one
  // to take what is sent: it is dropped, as the server drops what comes
  // after the exit.
  #send(data: string | Uint8Array): void {
    if (this.#ws.readyState === OPEN) this.#ws.send(data);
  }

  /** Writes to the command's stdin (a string as UTF-8); does nothing once the session ended. */
  write(data: string | Uint8Array): void {
    this.#send(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  /** Ends the command's stdin, as the end of a file would (a TTY has none: write "\x04"). */
  closeStdin(): void {
    this.#send(JSON.stringify({ type: 'eof' }));
  }

  /** Resizes the command's terminal (with tty). */
  resize(cols: number, rows: number): void {
    this.#send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  /** Sends a signal (INT, TERM, KILL, HUP, ...) to the command's process group, or on a TTY its foreground group. */
  signal(name: string): void {
    this.#send(JSON.stringify({ type: 'signal', signal: name }));
  }

  /**
   * Resolves once the command exited, with its exit code and the output
   * collected. Rejects if the session broke or was closed first, or with
   * the reason of AttachOptions.signal if that aborted first.
   */
  wait(): Promise<ExecResult> {
    return this.#done;
  }

  /** Closes the WebSocket; a command still running is killed (on a TTY, hung up on). */
  close(): void {
    this.#ws.close(1000);
  }
}

/**
 * Attaches to a command; resolves once the sandbox has it running. An
 * abort of opts.signal closes the WebSocket and rejects with its reason.
 */
export async function attach(http: Http, ref: string, cmd: Command, opts: AttachOptions = {}): Promise<AttachSession> {
  const signal = opts.signal;
  // As fetch: a signal aborted already fails the call before any connection.
  if (signal?.aborted) throw signal.reason;
  const body = JSON.stringify(attachBody(cmd, opts));
  const ws = http.webSocket(routes.execAttach, { params: { ref } });
  ws.binaryType = 'arraybuffer';
  const sink = new OutputSink(opts);
  let opened = false;
  let started = false;
  let failure: { code: string; message: string } | undefined;
  let exit: ExecResult | undefined;

  let resolveStart!: () => void;
  let rejectStart!: (err: unknown) => void;
  const start = new Promise<void>((res, rej) => ((resolveStart = res), (rejectStart = rej)));
  let resolveDone!: (r: ExecResult) => void;
  let rejectDone!: (err: unknown) => void;
  const done = new Promise<ExecResult>((res, rej) => ((resolveDone = res), (rejectDone = rej)));
  done.catch(() => {}); // a caller that never waits sees no unhandled rejection

  ws.onopen = () => {
    opened = true;
    ws.send(body);
  };
  // A close follows an error, and says more; but the WebSocket of Node.js
  // 20 and 21 (undici) fires no close when the upgrade is refused.
  ws.onerror = () => {
    if (!opened) setTimeout(() => finish({ code: 1006, reason: '' }), 100);
  };
  ws.onmessage = (ev) => {
    if (finished) return; // aborted: the caller has stopped listening
    if (typeof ev.data !== 'string') {
      const b = bytesOf(ev.data);
      if (!b || b.length === 0) return;
      if (b[0] === STDOUT) sink.take({ type: 'stdout', data: b.subarray(1) });
      else if (b[0] === STDERR) sink.take({ type: 'stderr', data: b.subarray(1) });
      return;
    }
    let m: Message;
    try {
      m = JSON.parse(ev.data) as Message;
    } catch {
      return;
    }
    switch (m.type) {
      case 'start':
        started = true;
        resolveStart();
        break;
      case 'error': {
        const message = typeof m.message === 'string' ? m.message : '';
        if (typeof m.code === 'string' && m.code !== '') failure = { code: m.code, message };
        else sink.take({ type: 'error', message });
        break;
      }
      case 'exit': {
        const exitCode = typeof m.exit_code === 'number' ? m.exit_code : -1;
        const timedOut = m.timed_out === true;
        sink.take({ type: 'exit', exitCode, timedOut });
        exit = { stdout: sink.stdout, stderr: sink.stderr, exitCode, timedOut };
        if (sink.error !== undefined) exit.error = sink.error;
        break;
      }
    }
  };
  let finished = false;
  const finish = (ev: { code: number; reason: string }): void => {
    if (finished) return;
    finished = true;
    signal?.removeEventListener('abort', onAbort);
    if (exit) {
      resolveDone(exit);
      return;
    }
    void closeError(ev).then((err) => {
      rejectStart(err);
      rejectDone(err);
    });
  };
  ws.onclose = finish;
  // An abort ends the session at once with the signal's reason, unless the
  // command's exit already came; closing the WebSocket kills the command.
  const onAbort = (): void => {
    if (finished) return;
    finished = true;
    if (exit) {
      resolveDone(exit);
    } else {
      sink.flush();
      rejectStart(signal?.reason);
      rejectDone(signal?.reason);
    }
    ws.close(1000);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const closeError = async (ev: { code: number; reason: string }): Promise<RuntoolsError> => {
    if (failure || (ev.code >= CLOSE_ERROR && ev.code < CLOSE_ERROR + 1000)) {
      const status = ev.code >= CLOSE_ERROR && ev.code < CLOSE_ERROR + 1000 ? ev.code - CLOSE_ERROR : 0;
      return errorFor(failure?.code ?? codeOfStatus(status), status, failure?.message || ev.reason);
    }
    if (!opened) {
      // A WebSocket that did not open says nothing of why: the same
      // request over plain HTTP gets the server's error (a wrong key, no
      // such sandbox), or, if all is well, "send Upgrade: websocket".
      try {
        await http.empty(routes.execAttach, { params: { ref } });
      } catch (err) {
        if (err instanceof RuntoolsError && !(err.status === 400 && err.code === 'invalid_argument')) return err;
      }
      return new UnavailableError(`the WebSocket to ${http.baseUrl} could not be opened (close code ${ev.code})`, {
        code: 'unavailable',
        status: 0,
      });
    }
    sink.flush();
    const why = started ? 'before the command exited' : 'before the command started';
    return new UnavailableError(`the WebSocket closed ${why} (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`, {
      code: 'unavailable',
      status: 0,
    });
  };

  await start;
  return new AttachSession(ws, done);
}
