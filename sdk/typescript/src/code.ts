/**
 * The code interpreter of a sandbox of the `code` template: cells of
 * Python (a Jupyter kernel) or JavaScript (a persistent Node.js context)
 * whose state lives as long as the sandbox, with rich results.
 */
import type { components } from './gen/openapi.js';
import { UnavailableError } from './errors.js';
import type { Http } from './http.js';
import type { Wire } from './wire.js';
import { routes } from './routes.js';

type S = components['schemas'];

/** One value a cell returned or displayed, in each representation it has. */
export interface CodeResult {
  /** The value of the cell's last expression. */
  isMain: boolean;
  text?: string;
  html?: string;
  markdown?: string;
  svg?: string;
  /** base64 */
  png?: string;
  /** base64 */
  jpeg?: string;
  latex?: string;
  json?: unknown;
  javascript?: string;
}

/** What a cell raised; the kernel lives on. */
export interface CodeError {
  name: string;
  value: string;
  traceback: string;
}

/** A whole cell's outcome. */
export interface Execution {
  stdout: string;
  stderr: string;
  results: CodeResult[];
  error?: CodeError;
  executionCount: number;
  timedOut: boolean;
  /** What the interpreter did on its own, such as restarting a kernel that died. */
  notices: string[];
  /** The text of the cell's last expression's value, if it has one. */
  readonly text: string | undefined;
}

/** An interpreter context with its own state. */
export interface CodeContext {
  id: string;
  language: string;
  cwd: string;
}

export interface RunCodeOptions {
  /** python (default) or javascript. */
  language?: 'python' | 'javascript';
  /** A context's id; default: the language's default context. */
  context?: string | CodeContext;
  /** Interrupts the cell (not the kernel) after this long; default 5 minutes. */
  timeoutMs?: number;
  env?: Record<string, string>;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  onResult?: (result: CodeResult) => void;
  onError?: (error: CodeError) => void;
  signal?: AbortSignal;
}

function resultFromWire(w: S['CodeResult']): CodeResult {
  const r: CodeResult = { isMain: w.is_main === true };
  for (const k of ['text', 'html', 'markdown', 'svg', 'png', 'jpeg', 'latex', 'javascript'] as const) {
    const v = w[k];
    if (typeof v === 'string' && v !== '') r[k] = v;
  }
  if (w.json !== undefined) r.json = w.json;
  return r;
}

function errorFromWire(w: S['CodeError'] | undefined): CodeError | undefined {
  return w ? { name: w.name ?? '', value: w.value ?? '', traceback: w.traceback ?? '' } : undefined;
}

export function contextFromWire(x: Wire): CodeContext {
  const w = x as S['CodeContext'];
  return { id: w.id ?? '', language: w.language ?? '', cwd: w.cwd ?? '' };
}

/** Runs one cell, calling the options' callbacks as its events come. */
export async function runCode(http: Http, ref: string, code: string, opts: RunCodeOptions = {}): Promise<Execution> {
  const ex: Execution = {
    stdout: '', stderr: '', results: [], executionCount: 0, timedOut: false, notices: [],
    get text() {
      return this.results.find((r) => r.isMain)?.text;
    },
  };
  const ctx = typeof opts.context === 'object' ? opts.context.id : opts.context;
  const body: S['RunCodeRequest'] = { code, language: opts.language, context: ctx, timeout_ms: opts.timeoutMs, env: opts.env };
  let ended = false;
  await http.ndjson(routes.runCode, { params: { ref }, json: body, signal: opts.signal }, (x) => {
    const w = x as S['CodeEvent'];
    switch (w.type) {
      case 'stdout': ex.stdout += w.text ?? ''; opts.onStdout?.(w.text ?? ''); break;
      case 'stderr': ex.stderr += w.text ?? ''; opts.onStderr?.(w.text ?? ''); break;
      case 'notice': ex.notices.push(w.text ?? ''); break;
      case 'result': if (w.result) { const r = resultFromWire(w.result); ex.results.push(r); opts.onResult?.(r); } break;
      case 'error': ex.error = errorFromWire(w.error); if (ex.error) opts.onError?.(ex.error); break;
      case 'end': ex.executionCount = w.execution_count ?? 0; ex.timedOut = w.timed_out === true; ended = true; return true;
    }
    return false;
  });
  if (!ended) throw new UnavailableError('the code stream ended before the cell did', { code: 'unavailable', status: 0 });
  return ex;
}
