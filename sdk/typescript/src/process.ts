/**
 * Commands: exec (collected or streamed over NDJSON) and background
 * processes that outlive the call.
 */
import { errorFor, InvalidArgumentError, UnavailableError } from './errors.js';
import { toBase64 } from './base64.js';
import type { Http } from './http.js';
import { routes } from './routes.js';
import type {
  ExecOptions,
  ExecResult,
  OutputEvent,
  OutputOptions,
  ProcessInfo,
  ProcessOutput,
  StartOptions,
  StreamCallbacks,
} from './types.js';
import { arr, obj, outputEventFromWire, processFromWire } from './wire.js';

/** A command: an argv array runs as it is; a string runs with `sh -c`. */
export type Command = string | string[];

export function argv(cmd: Command): string[] {
  const a = typeof cmd === 'string' ? ['sh', '-c', cmd] : cmd;
  if (a.length === 0 || a[0] === '') {
    throw new InvalidArgumentError('the command is empty: pass a string for sh -c, or an argv array such as ["ls", "-la"]', {
      code: 'invalid_argument',
      status: 0,
    });
  }
  return a;
}

function execBody(cmd: Command, o: StartOptions): Record<string, unknown> {
  const stdin = typeof o.stdin === 'string' ? new TextEncoder().encode(o.stdin) : o.stdin;
  const body: Record<string, unknown> = { cmd: argv(cmd) };
  if (o.env !== undefined) body.env = o.env;
  if (o.cwd !== undefined) body.cwd = o.cwd;
  if (o.user !== undefined) body.user = o.user;
  if (o.timeoutMs !== undefined) body.timeout_ms = o.timeoutMs;
  if (stdin !== undefined && stdin.length > 0) body.stdin = toBase64(stdin);
  if (o.stdinOpen) body.stdin_open = true;
  return body;
}

/** Collects a stream's output and hands it to the callbacks as it arrives. */
export class OutputSink {
  private readonly out = new TextDecoder();
  private readonly err = new TextDecoder();
  stdout = '';
  stderr = '';
  exit: Extract<OutputEvent, { type: 'exit' }> | undefined;
  error: string | undefined;
  /** The error event's code, when the server gave one (conflict: the sandbox stopped). */
  errorCode: string | undefined;

  constructor(private readonly cb: StreamCallbacks) {}

  /** Takes one event; true once the exit event came. */
  take(ev: OutputEvent): boolean {
    this.cb.onEvent?.(ev);
    switch (ev.type) {
      case 'stdout': {
        const text = this.out.decode(ev.data, { stream: true });
        this.stdout += text;
        if (text) this.cb.onStdout?.(text);
        break;
      }
      case 'stderr': {
        const text = this.err.decode(ev.data, { stream: true });
        this.stderr += text;
        if (text) this.cb.onStderr?.(text);
        break;
      }
      case 'error':
        this.error = ev.message;
        this.errorCode = ev.code;
        break;
      case 'exit':
        this.exit = ev;
        this.flush();
        return true;
    }
    return false;
  }

  /** Hands over what the decoders still hold (an incomplete character at the end). */
  flush(): void {
    const o = this.out.decode();
    const e = this.err.decode();
    if (o) {
      this.stdout += o;
      this.cb.onStdout?.(o);
    }
    if (e) {
      this.stderr += e;
      this.cb.onStderr?.(e);
    }
  }
}

/** Runs a command to completion, streaming its output to the callbacks. */
export async function exec(http: Http, ref: string, cmd: Command, opts: ExecOptions = {}): Promise<ExecResult> {
  const sink = new OutputSink(opts);
  await http.ndjson(
    routes.exec,
    { params: { ref }, json: execBody(cmd, opts), signal: opts.signal },
    (w) => sink.take(outputEventFromWire(w)),
  );
  if (!sink.exit) {
    sink.flush();
    if (sink.errorCode !== undefined) {
      throw errorFor(sink.errorCode, 0, sink.error ?? '');
    }
    if (sink.error !== undefined) {
      throw new UnavailableError(`the command failed: ${sink.error}`, { code: 'unavailable', status: 0 });
    }
    throw new UnavailableError('the output stream ended before the command did', { code: 'unavailable', status: 0 });
  }
  const res: ExecResult = {
    stdout: sink.stdout,
    stderr: sink.stderr,
    exitCode: sink.exit.exitCode,
    timedOut: sink.exit.timedOut,
  };
  if (sink.error !== undefined) res.error = sink.error;
  return res;
}

/** A process started in the background; it outlives the call that started it. */
export class BackgroundProcess {
  constructor(
    private readonly http: Http,
    /** The sandbox it runs in (ID or name). */
    readonly sandbox: string,
    /** Its process ID inside the sandbox. */
    readonly pid: number,
  ) {}

  /**
   * Its buffered output and, with follow, its live output until it exits.
   * exitCode is null when the process still runs (only without follow).
   */
  async output(opts: OutputOptions = {}): Promise<ProcessOutput> {
    const sink = new OutputSink(opts);
    await this.http.ndjson(
      routes.processOutput,
      { params: { ref: this.sandbox, pid: this.pid }, query: { follow: opts.follow === true }, signal: opts.signal },
      (w) => sink.take(outputEventFromWire(w)),
    );
    sink.flush();
    if (!sink.exit && opts.follow) {
      throw new UnavailableError(
        sink.error ?? 'the output stream ended before the process did',
        { code: 'unavailable', status: 0 },
      );
    }
    return { stdout: sink.stdout, stderr: sink.stderr, exitCode: sink.exit ? sink.exit.exitCode : null };
  }

  /** Waits for the process to exit, streaming its output to the callbacks; see output. */
  async wait(opts: Omit<OutputOptions, 'follow'> = {}): Promise<ProcessOutput & { exitCode: number }> {
    const out = await this.output({ ...opts, follow: true });
    return { ...out, exitCode: out.exitCode ?? -1 };
  }

  /**
   * Writes to the process's stdin; it must have been started with
   * stdinOpen. Resolves once the process has taken the data (at most 1 MiB
   * a call: send more in parts, in order). A process whose stdin is not
   * open (started without stdinOpen, closed, or exited) is a ConflictError.
   */
  async sendStdin(data: string | Uint8Array): Promise<void> {
    const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    await this.http.empty(routes.processStdin, { params: { ref: this.sandbox, pid: this.pid }, body });
  }

  /** Ends the process's stdin, as the end of a file would. */
  async closeStdin(): Promise<void> {
    await this.http.empty(routes.processStdin, { params: { ref: this.sandbox, pid: this.pid }, query: { eof: true } });
  }

  /** Sends a signal (TERM, KILL, INT, HUP, ... or a number) to the process and its group. */
  async kill(signal: string | number = 'TERM'): Promise<void> {
    await this.http.empty(routes.signalProcess, {
      params: { ref: this.sandbox, pid: this.pid },
      json: { signal: String(signal) },
    });
  }
}

/** Starts a command in the background. */
export async function start(http: Http, ref: string, cmd: Command, opts: StartOptions = {}): Promise<BackgroundProcess> {
  const w = await http.json(routes.startProcess, { params: { ref }, json: execBody(cmd, opts), signal: opts.signal });
  return new BackgroundProcess(http, ref, typeof w.pid === 'number' ? w.pid : 0);
}

/** Lists the processes started through the API. */
export async function processes(http: Http, ref: string): Promise<ProcessInfo[]> {
  const w = await http.json(routes.listProcesses, { params: { ref } });
  return arr(w.processes).map((p) => processFromWire(obj(p)));
}
