/**
 * Typed errors. Every error answer of the server becomes a
 * {@link RuntoolsError} subclass chosen by its code, so callers can write
 * `if (err instanceof NotFoundError)` rather than compare messages.
 */
import type { Quota } from './types.js';

/** Options of a {@link RuntoolsError}. */
export interface RuntoolsErrorOptions {
  /** The wire code, e.g. `not_found`. */
  code: string;
  /** The HTTP status; 0 when no answer came (the server is unreachable). */
  status: number;
  cause?: unknown;
  /** The team's limit that refused the request, for a ResourceExhaustedError a quota gave. */
  quota?: Quota;
}

/** Any error answer of a runtools server, or a failure to reach it. */
export class RuntoolsError extends Error {
  /** The wire code, e.g. `not_found`. */
  readonly code: string;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /**
   * Set when a team's quota refused the request: which limit, its use,
   * the limit and what to do (`hint`).
   */
  readonly quota?: Quota;

  constructor(message: string, options: RuntoolsErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.status = options.status;
    if (options.quota !== undefined) this.quota = options.quota;
  }
}

/** The sandbox, snapshot, process, file, key or template does not exist (404). */
export class NotFoundError extends RuntoolsError {}
/** The name is taken (409). */
export class AlreadyExistsError extends RuntoolsError {}
/** The request is wrong; the message says how (400). */
export class InvalidArgumentError extends RuntoolsError {}
/** The sandbox is in a state that does not allow the call (409). */
export class ConflictError extends RuntoolsError {}
/** The server, or the sandbox, cannot serve the call now; trying again may work (503). */
export class UnavailableError extends RuntoolsError {}
/** No API key, or one the server does not know (401). */
export class UnauthenticatedError extends RuntoolsError {}
/** The key may not do this, e.g. an admin call with a team key (403). */
export class PermissionDeniedError extends RuntoolsError {}
/**
 * A limit was reached, e.g. no disk space for a snapshot (429), or a
 * team's quota (`quota` says which): 429 for what runs (sandboxes, vCPUs,
 * memory, builds), 403 for what is stored (disk).
 */
export class ResourceExhaustedError extends RuntoolsError {}
/** The server failed; its log says why (500). */
export class InternalError extends RuntoolsError {}

/**
 * This JavaScript runtime lacks what the call needs, and no server was
 * asked: attach needs a global WebSocket (Node.js 22+, or Node.js 20 and
 * 21 run with --experimental-websocket, browsers, Deno, Bun). Its code is
 * `unsupported_runtime` and its status 0.
 */
export class UnsupportedRuntimeError extends RuntoolsError {}

type ErrorClass = new (message: string, options: RuntoolsErrorOptions) => RuntoolsError;

const byCode: Record<string, ErrorClass> = {
  not_found: NotFoundError,
  already_exists: AlreadyExistsError,
  invalid_argument: InvalidArgumentError,
  conflict: ConflictError,
  unavailable: UnavailableError,
  unauthenticated: UnauthenticatedError,
  permission_denied: PermissionDeniedError,
  resource_exhausted: ResourceExhaustedError,
  internal: InternalError,
};

/** Makes the error of the class that matches code (RuntoolsError for a code this SDK does not know). */
export function errorFor(code: string, status: number, message: string, cause?: unknown, quota?: Quota): RuntoolsError {
  const cls = byCode[code] ?? RuntoolsError;
  return new cls(message || `${code} (HTTP ${status})`, { code, status, cause, quota });
}

/** The wire code of an answer without a JSON error body, from its HTTP status. */
export function codeOfStatus(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_argument';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 429:
      return 'resource_exhausted';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
  }
  return 'internal';
}

/** Reads an error answer (`{"error":{"code":"...","message":"..."}}`) into its typed error. */
export async function errorFromResponse(res: Response): Promise<RuntoolsError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // The body is lost; the status still says what kind of error it is.
  }
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; quota?: unknown } };
    if (body.error && typeof body.error.code === 'string' && body.error.code !== '') {
      const message = typeof body.error.message === 'string' ? body.error.message : '';
      const q = body.error.quota;
      const quota = q && typeof q === 'object' ? (q as Quota) : undefined;
      return errorFor(body.error.code, res.status, message, undefined, quota);
    }
  } catch {
    // Not JSON: a proxy in between, or a server that is not runtools.
  }
  return errorFor(codeOfStatus(res.status), res.status, text.trim().slice(0, 2000));
}
