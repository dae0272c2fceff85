/** A sandbox: its data as last seen, and everything that can be done with it. */
import { attach } from './attach.js';
import { contextFromWire, runCode } from './code.js';
import type { CodeContext, Execution, RunCodeOptions } from './code.js';
import type { Wire } from './wire.js';
import type { AttachOptions, AttachSession } from './attach.js';
import { Client, httpOf } from './client.js';
import type { ClientOptions, ListOptions } from './client.js';
import { Computer } from './computer.js';
import { Files } from './files.js';
import { BackgroundProcess, exec, processes, start } from './process.js';
import type { Command } from './process.js';
import { routes } from './routes.js';
import type {
  CreateOptions,
  Egress,
  ExecOptions,
  ExecResult,
  ForkOptions,
  Link,
  PortUrl,
  ProcessInfo,
  SandboxEvent,
  SandboxInfo,
  SandboxState,
  Snapshot,
  SshAccess,
  StartOptions,
  Template,
  UpdateOptions,
  VolumeMount,
} from './types.js';
import {
  arr,
  linkFromWire,
  obj,
  sandboxEventFromWire,
  sandboxFromWire,
  snapshotFromWire,
  templateFromWire,
  updateToWire,
  egressToWire,
} from './wire.js';
import { Watcher } from './watch.js';
import type { WatchEventName, WatchEvents } from './watch.js';

/** Where the static calls find the server: a Client, or options to make one (default: the environment). */
export type Connection = Client | ClientOptions;

function clientOf(conn: Connection | undefined): Client {
  return conn instanceof Client ? conn : new Client(conn);
}

/**
 * A sandbox. Its fields are what the server last said about it; calls that
 * change it (pause, resume, rollback, expose, update, refresh) update them.
 *
 *     const sandbox = await Sandbox.create({ template: 'base' });
 *     const { stdout } = await sandbox.exec('node --version');
 *     await sandbox.destroy();
 */
export class Sandbox implements SandboxInfo {
  id!: string;
  name!: string;
  team!: string;
  template!: string;
  state!: SandboxState;
  stopReason?: string;
  vcpus!: number;
  memoryMb!: number;
  diskMb!: number;
  disk!: 'durable' | 'ephemeral';
  autoStart!: boolean;
  ip?: string;
  idleTimeout!: number;
  public!: boolean;
  ports!: number[];
  urls!: PortUrl[];
  accessToken?: string;
  ssh?: SshAccess;
  desktop!: boolean;
  vncReady!: boolean;
  limitHit?: string;
  egress!: Egress;
  env!: Record<string, string>;
  metadata!: Record<string, string>;
  labels!: Record<string, string>;
  volumes!: VolumeMount[];
  timeoutAt?: Date;
  onTimeout?: 'destroy' | 'pause';
  pausedTtlAt?: Date;
  createdAt!: Date;
  startedAt?: Date;
  stoppedAt?: Date;

  readonly #client: Client;
  #watcher: Watcher | undefined;

  /** @internal Use Sandbox.create, Sandbox.connect, Sandbox.get or Client. */
  constructor(client: Client, info: SandboxInfo) {
    this.#client = client;
    this.#set(info);
  }

  /** @internal A handle that has only its ID (or name) until refresh. */
  static handle(client: Client, ref: string): Sandbox {
    return new Sandbox(client, {
      ...sandboxFromWire({}),
      id: ref,
    });
  }

  /** Creates a sandbox and resolves once it runs. */
  static async create(opts: CreateOptions = {}, conn?: Connection): Promise<Sandbox> {
    return clientOf(conn).create(opts);
  }

  /** The existing sandbox with this ID or name, resumed first if it is paused. */
  static async connect(ref: string, conn?: Connection): Promise<Sandbox> {
    return clientOf(conn).connect(ref);
  }

  /** The existing sandbox with this ID or name, as it is. */
  static async get(ref: string, conn?: Connection): Promise<Sandbox> {
    return clientOf(conn).get(ref);
  }

  /** The team's sandboxes that are not stopped (with all, stopped ones too), newest first. */
  static async list(opts: ListOptions = {}, conn?: Connection): Promise<Sandbox[]> {
    return clientOf(conn).list(opts);
  }

  /** The client this sandbox's calls go through. */
  get client(): Client {
    return this.#client;
  }

  /** Its file operations. */
  get files(): Files {
    return new Files(httpOf(this.#client), this.id);
  }

  /** Its computer-use calls (desktop sandboxes). */
  get computer(): Computer {
    return new Computer(httpOf(this.#client), this.id);
  }

  /** The sandbox's data, as plain JSON-friendly fields. */
  toJSON(): SandboxInfo {
    const { id, name, team, template, state, stopReason, vcpus, memoryMb, diskMb, disk, autoStart, ip, idleTimeout } = this;
    const { ports, urls, accessToken, ssh, desktop, vncReady, limitHit, egress, env, metadata } = this;
    const { labels, volumes, timeoutAt, onTimeout, pausedTtlAt } = this;
    return {
      id, name, team, template, state, stopReason, vcpus, memoryMb, diskMb, disk, autoStart, ip, idleTimeout, public: this.public,
      ports, urls, accessToken, ssh, desktop, vncReady, limitHit, egress, env, metadata,
      labels, volumes, timeoutAt, onTimeout, pausedTtlAt,
      createdAt: this.createdAt, startedAt: this.startedAt, stoppedAt: this.stoppedAt,
    };
  }

  #set(info: SandboxInfo): this {
    Object.assign(this, info);
    return this;
  }

  get #http() {
    return httpOf(this.#client);
  }

  async #call(route: (typeof routes)[keyof typeof routes], json?: unknown): Promise<this> {
    return this.#set(sandboxFromWire(await this.#http.json(route, { params: { ref: this.id }, json })));
  }

  /** Reloads the sandbox's fields from the server. */
  async refresh(): Promise<this> {
    return this.#set(await this.#client.info(this.id));
  }

  /** Changes settings: the idle timeout, public URLs. */
  async update(opts: UpdateOptions): Promise<this> {
    return this.#call(routes.updateSandbox, updateToWire(opts));
  }

  /**
   * Replaces the egress policy; it applies at once, to new connections.
   * `{ default: 'deny' }` cuts the sandbox off the internet; its team's
   * sandboxes stay reachable.
   */
  async setEgress(policy: Egress): Promise<this> {
    return this.#call(routes.setEgress, egressToWire(policy));
  }

  /** Destroys the sandbox (its processes, network and files); the record stays, stopped. Closes its watch. */
  async destroy(): Promise<void> {
    this.#watcher?.close();
    await this.#call(routes.destroySandbox);
  }

  /**
   * Runs a cell of code in the sandbox's code interpreter (a sandbox of the
   * `code` template): Python by default, or JavaScript. Its kernel lives as
   * long as the sandbox, so variables stay from one call to the next.
   * Rich results (PNG, SVG, HTML, ...) come back in `results`; a cell that
   * raises is not an error: check `error`.
   */
  async runCode(code: string, opts: RunCodeOptions = {}): Promise<Execution> {
    return runCode(this.#http, this.id, code, opts);
  }

  /** Starts an interpreter context with its own state. */
  async createCodeContext(opts: { language?: 'python' | 'javascript'; cwd?: string } = {}): Promise<CodeContext> {
    return contextFromWire(await this.#http.json(routes.createCodeContext, { params: { ref: this.id }, json: opts }));
  }

  /** Lists the sandbox's interpreter contexts. */
  async codeContexts(): Promise<CodeContext[]> {
    const w = await this.#http.json(routes.listCodeContexts, { params: { ref: this.id } });
    return ((w.contexts as Wire[] | undefined) ?? []).map(contextFromWire);
  }

  /** Ends a context and its kernel. */
  async deleteCodeContext(context: string | CodeContext): Promise<void> {
    const id = typeof context === 'string' ? context : context.id;
    await this.#http.empty(routes.deleteCodeContext, { params: { ref: this.id, id } });
  }

  /** Restarts a context's kernel: its state is lost. */
  async restartCodeContext(context: string | CodeContext): Promise<CodeContext> {
    const id = typeof context === 'string' ? context : context.id;
    return contextFromWire(await this.#http.json(routes.restartCodeContext, { params: { ref: this.id, id } }));
  }

  /**
   * Runs a command to completion. A string runs with `sh -c`; an array runs
   * as it is. Output streams to onStdout/onStderr as it is produced. A
   * command that fails is not an error: check exitCode.
   */
  async exec(cmd: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    return exec(this.#http, this.id, cmd, opts);
  }

  /**
   * Runs a command with its stdin streamed over a WebSocket while it runs,
   * as `docker exec -i` (with tty, `-it`). Resolves once it started; write
   * to it, then wait for its exit:
   *
   *     const s = await sandbox.attach('cat', { onStdout: (t) => console.log(t) });
   *     s.write('hello\n');
   *     s.closeStdin();
   *     const { exitCode } = await s.wait();
   *
   * An abort of opts.signal closes the WebSocket, which kills the command,
   * and rejects attach (or later wait) with the signal's reason, as fetch
   * does; a signal aborted already rejects at once, without connecting.
   *
   * Needs a global WebSocket (Node.js 22+, Node.js 20 and 21 with
   * --experimental-websocket, browsers, Deno, Bun) or ClientOptions.WebSocket;
   * without one it throws UnsupportedRuntimeError.
   */
  async attach(cmd: Command, opts: AttachOptions = {}): Promise<AttachSession> {
    return attach(this.#http, this.id, cmd, opts);
  }

  /** Starts a command in the background; it outlives the call. */
  async start(cmd: Command, opts: StartOptions = {}): Promise<BackgroundProcess> {
    return start(this.#http, this.id, cmd, opts);
  }

  /** The processes started through the API, running or exited. */
  async processes(): Promise<ProcessInfo[]> {
    return processes(this.#http, this.id);
  }

  /** A handle for a background process by its pid. */
  process(pid: number): BackgroundProcess {
    return new BackgroundProcess(this.#http, this.id, pid);
  }

  /** Saves the sandbox's memory, processes and disk and stops it; any use of it wakes it. */
  async pause(): Promise<this> {
    return this.#call(routes.pause);
  }

  /** Brings a paused sandbox back as it was. */
  async resume(): Promise<this> {
    return this.#call(routes.resume);
  }

  /**
   * Moves the paused sandbox to another node of the cluster (`node`, or the
   * one placement picks) and resumes it there; its IP changes.
   */
  async move(node?: string): Promise<this> {
    return this.#call(routes.moveSandbox, { node });
  }

  /** Ends its processes and keeps its disk; it then uses no CPU or memory. */
  async stop(): Promise<this> {
    return this.#call(routes.stop);
  }

  /**
   * Boots a stopped sandbox from its disk (`runtools sandbox start`): same
   * ID, name and URLs, processes fresh. (start() runs a background command.)
   */
  async boot(): Promise<this> {
    return this.#call(routes.start);
  }

  /** Its recorded state changes, oldest first. */
  async events(): Promise<SandboxEvent[]> {
    const w = await this.#http.json(routes.events, { params: { ref: this.id } });
    return arr(w.events).map((e) => sandboxEventFromWire(obj(e)));
  }

  /**
   * Saves its memory and disk under a name (default a timestamp); it keeps
   * running. A pinned snapshot is kept when the server's snapshot cap
   * removes the oldest.
   */
  async snapshot(name?: string, opts: { pin?: boolean } = {}): Promise<Snapshot> {
    const json = { ...(name ? { name } : {}), ...(opts.pin ? { pin: true } : {}) };
    return snapshotFromWire(await this.#http.json(routes.takeSnapshot, { params: { ref: this.id }, json }));
  }

  /** Its snapshots, oldest first. */
  async snapshots(): Promise<Snapshot[]> {
    const w = await this.#http.json(routes.listSnapshots, { params: { ref: this.id } });
    return arr(w.snapshots).map((s) => snapshotFromWire(obj(s)));
  }

  /** Deletes a snapshot (by name or ID) and frees its disk. */
  async deleteSnapshot(snapshot: string): Promise<void> {
    await this.#http.empty(routes.deleteSnapshot, { params: { ref: this.id, snap: snapshot } });
  }

  /** Returns the sandbox to a snapshot (default the latest): memory, processes and files. */
  async rollback(snapshot?: string): Promise<this> {
    return this.#call(routes.rollback, snapshot ? { snapshot } : {});
  }

  /** A new sandbox (new ID, address and token) from a snapshot of this one (default its current state). */
  async fork(opts: ForkOptions = {}): Promise<Sandbox> {
    const json: Record<string, string> = {};
    if (opts.name) json.name = opts.name;
    if (opts.snapshot) json.snapshot = opts.snapshot;
    const w = await this.#http.json(routes.fork, { params: { ref: this.id }, json });
    return new Sandbox(this.#client, sandboxFromWire(w));
  }

  /**
   * Saves this sandbox's files as the next version of one of the team's
   * templates; the sandbox stops no longer than a snapshot takes.
   */
  async save(template: string): Promise<Template> {
    return templateFromWire(await this.#http.json(routes.saveSandbox, { params: { ref: this.id }, json: { template } }));
  }

  /** Makes a port reachable at its dev-server URL. */
  async expose(port: number): Promise<this> {
    return this.#call(routes.expose, { port });
  }

  /** Makes a port unreachable through the dev-server URLs. */
  async unexpose(port: number): Promise<this> {
    return this.#set(
      sandboxFromWire(await this.#http.json(routes.unexpose, { params: { ref: this.id, port } })),
    );
  }

  /** The dev-server URL of a port, as last seen (see urls); private URLs need accessToken or a signed link. */
  url(port: number): string | undefined {
    return this.urls.find((u) => u.port === port)?.url;
  }

  /** A URL that opens a private port in a browser until it expires (default one hour). */
  async signedLink(port: number, opts: { ttlSeconds?: number } = {}): Promise<Link> {
    const json: Record<string, number> = { port };
    if (opts.ttlSeconds !== undefined) json.ttl_seconds = opts.ttlSeconds;
    return linkFromWire(await this.#http.json(routes.signedLink, { params: { ref: this.id }, json }));
  }

  /**
   * Listens to the sandbox's live events: 'status' (each state change, the
   * current state first), 'metrics' (every second while it runs), 'error'
   * (the watch gave up, or a listener threw). The stream opens with the
   * first listener and reconnects by itself, missing no status change; it
   * keeps a Node.js process alive until off() or close().
   */
  on<K extends WatchEventName>(event: K, listener: WatchEvents[K]): this {
    this.#watcher ??= new Watcher(this.#http, routes.watchSandbox, { ref: this.id }, 'opt-out');
    this.#watcher.on(event, listener);
    return this;
  }

  /** Removes a listener (without one: all of that event's); the stream closes with the last. */
  off<K extends WatchEventName>(event: K, listener?: WatchEvents[K]): this {
    this.#watcher?.off(event, listener);
    return this;
  }

  /** Closes the live stream and removes every listener. */
  close(): void {
    this.#watcher?.close();
  }

  /** A separate live stream of this sandbox, e.g. to resume after a seq. */
  watch(opts: { after?: number } = {}): Watcher {
    return new Watcher(this.#http, routes.watchSandbox, { ref: this.id }, 'opt-out', opts);
  }
}
