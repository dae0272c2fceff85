/**
 * The TypeScript SDK of runtools: self-hosted gVisor sandboxes.
 *
 *     import { Sandbox } from 'runtools';
 *     const sandbox = await Sandbox.create({ template: 'base' });
 *     const result = await sandbox.exec('ls -la');
 *     await sandbox.destroy();
 *
 * It reads RUNTOOLS_URL and RUNTOOLS_API_KEY, as the CLI does.
 */
export { Client } from './client.js';
export type { ClientOptions, ListOptions } from './client.js';
export { Sandbox } from './sandbox.js';
export type { Connection } from './sandbox.js';
export { Files, VolumeFiles } from './files.js';
export type { FileData, SignalOptions } from './files.js';
export { Computer } from './computer.js';
export type { ClickOptions, ScrollOptions } from './computer.js';
export { BackgroundProcess } from './process.js';
export { AttachSession } from './attach.js';
export type { AttachOptions } from './attach.js';
export type { Command } from './process.js';
export type { CodeContext, CodeError, CodeResult, Execution, RunCodeOptions } from './code.js';
export { verifyWebhook, WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER } from './webhook.js';
export type { VerifyWebhookOptions } from './webhook.js';
export { Watcher } from './watch.js';
export type { WatchEventName, WatchEvents, WatchOptions } from './watch.js';
export {
  AlreadyExistsError,
  ConflictError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  RuntoolsError,
  UnauthenticatedError,
  UnavailableError,
  UnsupportedRuntimeError,
} from './errors.js';
export type { RuntoolsErrorOptions } from './errors.js';
export { DEFAULT_URL, ENV_API_KEY, ENV_URL } from './http.js';
export type { WebSocketCtor } from './http.js';
export type * from './types.js';
