/**
 * The client of a runtools server: sandboxes, and the calls that belong to
 * the team rather than to one sandbox (SSH keys, templates, teams, keys).
 */
import { Http, resolveConfig } from './http.js';
import type { FetchFn, WebSocketCtor } from './http.js';
import { routes } from './routes.js';
import { Sandbox } from './sandbox.js';
import type {
  ApiKey,
  BuildOptions,
  CreateKeyOptions,
  CreateOptions,
  CreateWebhookOptions,
  DrainEvent,
  Identity,
  Node,
  SandboxInfo,
  SshKey,
  Team,
  TeamUsage,
  Template,
  TemplateProgress,
  UpdateTeamOptions,
  Volume,
  Webhook,
  WebhookDelivery,
} from './types.js';
import {
  apiKeyFromWire,
  arr,
  createKeyToWire,
  createToWire,
  drainEventFromWire,
  identityFromWire,
  nodeFromWire,
  obj,
  sandboxFromWire,
  sshKeyFromWire,
  teamFromWire,
  teamUsageFromWire,
  templateFromWire,
  templateProgressFromWire,
  updateTeamToWire,
  volumeFromWire,
  webhookDeliveryFromWire,
  webhookFromWire,
} from './wire.js';
import { VolumeFiles } from './files.js';
import { Watcher } from './watch.js';
import type { WatchOptions } from './watch.js';
import { RuntoolsError, errorFor } from './errors.js';

/** Where the server is and how to authenticate. */
export interface ClientOptions {
  /** The server's URL; default RUNTOOLS_URL, else http://127.0.0.1:7070. */
  url?: string;
  /** The API key; default RUNTOOLS_API_KEY. */
  apiKey?: string;
  /** A fetch to use instead of the global one (a proxy, tests). */
  fetch?: FetchFn;
  /**
   * A WebSocket constructor to use instead of the global one, for attach
   * (e.g. the `ws` package's on Node.js 20 without --experimental-websocket).
   */
  WebSocket?: WebSocketCtor;
}

/** Options of list. */
export interface ListOptions {
  /** Include destroyed sandboxes. */
  all?: boolean;
  /** Only sandboxes with every one of these labels. */
  labels?: Record<string, string>;
}

const transports = new WeakMap<Client, Http>();

/** @internal The transport of a client. */
export function httpOf(c: Client): Http {
  const h = transports.get(c);
  if (!h) throw new TypeError('not a runtools Client');
  return h;
}

/** A client of one runtools server, authenticated by one API key. Safe to share. */
export class Client {
  /** The server's base URL. */
  readonly url: string;

  /** Reads RUNTOOLS_URL and RUNTOOLS_API_KEY for what opts leave out; throws UnauthenticatedError without a key. */
  constructor(opts: ClientOptions = {}) {
    const cfg = resolveConfig(opts.url, opts.apiKey);
    this.url = cfg.url;
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') {
      throw new RuntoolsError('no fetch: use Node.js 20 or later, or pass fetch', { code: 'invalid_argument', status: 0 });
    }
    transports.set(this, new Http(cfg.url, cfg.apiKey, f.bind(globalThis), opts.WebSocket));
  }

  /** A client from RUNTOOLS_URL and RUNTOOLS_API_KEY. */
  static fromEnv(): Client {
    return new Client();
  }

  /** Creates a sandbox and resolves once it runs. */
  async create(opts: CreateOptions = {}): Promise<Sandbox> {
    const w = await httpOf(this).json(routes.createSandbox, { json: createToWire(opts), signal: opts.signal });
    return new Sandbox(this, sandboxFromWire(w));
  }

  /** The sandbox with this ID or name. */
  async get(ref: string): Promise<Sandbox> {
    return new Sandbox(this, await this.info(ref));
  }

  /** The sandbox with this ID or name, resumed first if it is paused. */
  async connect(ref: string): Promise<Sandbox> {
    const sb = await this.get(ref);
    if (sb.state === 'paused' || sb.state === 'pausing') await sb.resume();
    return sb;
  }

  /** The team's sandboxes that are not destroyed (with all, destroyed ones too), newest first. */
  async list(opts: ListOptions = {}): Promise<Sandbox[]> {
    const label = Object.entries(opts.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    const query = { all: opts.all ? true : undefined, label: label.length > 0 ? label : undefined };
    const w = await httpOf(this).json(routes.listSandboxes, { query });
    return arr(w.sandboxes).map((s) => new Sandbox(this, sandboxFromWire(obj(s))));
  }

  /** A handle for the sandbox with this ID or name, without asking the server; its fields are empty until refresh(). */
  sandbox(ref: string): Sandbox {
    return Sandbox.handle(this, ref);
  }

  /** Destroys a sandbox: its processes, network and files go; the record stays, stopped. */
  async destroy(ref: string): Promise<SandboxInfo> {
    return sandboxFromWire(await httpOf(this).json(routes.destroySandbox, { params: { ref } }));
  }

  /**
   * Moves a paused sandbox (or one whose node is lost) to another node of
   * the cluster, `node` or the one placement picks, and resumes it there
   * from its image in the object store. Its name, URLs and SSH stay; its IP
   * changes.
   */
  async move(ref: string, node?: string): Promise<Sandbox> {
    return new Sandbox(this, sandboxFromWire(await httpOf(this).json(routes.moveSandbox, { params: { ref }, json: { node } })));
  }

  /** @internal */
  async info(ref: string): Promise<SandboxInfo> {
    return sandboxFromWire(await httpOf(this).json(routes.getSandbox, { params: { ref } }));
  }

  /** Which team and key this client authenticates as. */
  async me(): Promise<Identity> {
    return identityFromWire(await httpOf(this).json(routes.me));
  }

  /** The templates sandboxes can be made from. */
  async templates(): Promise<Template[]> {
    const w = await httpOf(this).json(routes.listTemplates);
    return arr(w.templates).map((t) => templateFromWire(obj(t)));
  }

  /** One template (a name or an alias), with the versions of what its build installed. */
  async template(name: string): Promise<Template> {
    return templateFromWire(await httpOf(this).json(routes.getTemplate, { params: { name } }));
  }

  /** Every version of one of the team's custom templates, newest first. */
  async templateHistory(name: string): Promise<Template[]> {
    const w = await httpOf(this).json(routes.templateHistory, { params: { name } });
    return arr(w.versions).map((t) => templateFromWire(obj(t)));
  }

  /** Lets every team use a custom template, or only its team again (admin key); `team` names the owner when not the key's. */
  async setTemplatePublic(name: string, isPublic: boolean, team?: string): Promise<Template> {
    return templateFromWire(await httpOf(this).json(routes.updateTemplate, { params: { name }, json: { public: isPublic, team } }));
  }

  /** Removes one of the team's custom templates, every version; a ConflictError while a sandbox uses it. */
  async removeTemplate(name: string): Promise<void> {
    await httpOf(this).empty(routes.removeTemplate, { params: { name } });
  }

  /**
   * Builds a new version of the team's custom template `name` from the
   * Dockerfile in a build context (a tar), every step in a sandbox,
   * reporting each step and the lines it prints. Resolves to the template
   * once built; a failed build rejects with an error of its kind
   * (InvalidArgumentError for a bad Dockerfile or a failing RUN).
   */
  async buildCustomTemplate(name: string, o: BuildOptions, onProgress?: (p: TemplateProgress) => void): Promise<Template> {
    let last: TemplateProgress | undefined;
    const query = {
      dockerfile: o.dockerfile,
      build_arg: Object.entries(o.buildArgs ?? {}).map(([k, v]) => `${k}=${v}`),
      no_cache: o.noCache ? true : undefined,
      image: o.image,
      image_archive: o.imageArchive ? true : undefined,
    };
    const body = o.image ? undefined : (o.imageArchive ?? o.context);
    if (!o.image && !body) {
      throw errorFor('invalid_argument', 0, `building ${name}: give a context, an image or an image archive`);
    }
    await httpOf(this).ndjson(
      routes.buildTemplate,
      { params: { name }, query, body, contentType: body ? 'application/x-tar' : undefined, signal: o.signal },
      (w) => {
        last = templateProgressFromWire(w);
        onProgress?.(last);
      },
    );
    if (last?.error) throw errorFor(last.code ?? 'unavailable', 400, `building ${name}: ${last.error}`);
    if (!last?.done) throw new RuntoolsError(`building ${name}: the build ended without a result`, { code: 'unavailable', status: 0 });
    return this.template(name);
  }

  /** Builds a template, or confirms it is up to date, reporting each step (admin key). */
  async buildTemplate(name: string, onProgress?: (p: TemplateProgress) => void): Promise<TemplateProgress> {
    let last: TemplateProgress | undefined;
    await httpOf(this).ndjson(routes.buildTemplate, { params: { name } }, (w) => {
      last = templateProgressFromWire(w);
      onProgress?.(last);
    });
    if (!last) throw new RuntoolsError(`building ${name}: the server sent no progress`, { code: 'unavailable', status: 0 });
    if (last.error) throw new RuntoolsError(`building ${name}: ${last.error}`, { code: 'unavailable', status: 500 });
    return last;
  }

  /** Creates an empty volume of sizeMb (default 1024): a named disk of the team that sandboxes mount (`create({ volumes })`). */
  async createVolume(name: string, opts: { sizeMb?: number } = {}): Promise<Volume> {
    return volumeFromWire(await httpOf(this).json(routes.createVolume, { json: { name, size_mb: opts.sizeMb } }));
  }

  /** The team's volumes, by name, with their use. */
  async volumes(): Promise<Volume[]> {
    const w = await httpOf(this).json(routes.listVolumes);
    return arr(w.volumes).map((v) => volumeFromWire(obj(v)));
  }

  /** A volume by name or ID, with its size, use and the sandboxes that mount it. */
  async volume(ref: string): Promise<Volume> {
    return volumeFromWire(await httpOf(this).json(routes.getVolume, { params: { ref } }));
  }

  /** Removes a volume and its data; one that a sandbox not destroyed mounts is kept (a ConflictError names them). */
  async removeVolume(ref: string): Promise<void> {
    await httpOf(this).empty(routes.removeVolume, { params: { ref } });
  }

  /** The files of a volume, read and written without a sandbox. */
  volumeFiles(ref: string): VolumeFiles {
    return new VolumeFiles(httpOf(this), ref);
  }

  /** The team's SSH public keys. */
  async sshKeys(): Promise<SshKey[]> {
    const w = await httpOf(this).json(routes.listSshKeys);
    return arr(w.ssh_keys).map((k) => sshKeyFromWire(obj(k)));
  }

  /** Registers an SSH public key (one authorized_keys line); any member's key opens every sandbox of the team. */
  async addSshKey(name: string, publicKey: string): Promise<SshKey> {
    return sshKeyFromWire(await httpOf(this).json(routes.addSshKey, { json: { name, public_key: publicKey } }));
  }

  /** Revokes an SSH key by name or ID; the next login with it fails. */
  async removeSshKey(ref: string): Promise<void> {
    await httpOf(this).empty(routes.removeSshKey, { params: { ref } });
  }

  /** The team's webhooks (their secrets are never shown again). */
  async webhooks(): Promise<Webhook[]> {
    const w = await httpOf(this).json(routes.listWebhooks);
    return arr(w.webhooks).map((h) => webhookFromWire(obj(h)));
  }

  /**
   * Adds a webhook: the team's sandbox events (of `events`, default all) are POSTed to `url`, signed.
   * The answer's `secret` is shown this once: keep it to verify deliveries with verifyWebhook.
   */
  async createWebhook(o: CreateWebhookOptions): Promise<Webhook> {
    return webhookFromWire(await httpOf(this).json(routes.createWebhook, { json: { url: o.url, ...(o.events ? { events: o.events } : {}) } }));
  }

  /** Removes a webhook; its pending deliveries are dropped. */
  async removeWebhook(id: string): Promise<void> {
    await httpOf(this).empty(routes.removeWebhook, { params: { id } });
  }

  /** A webhook's delivery log, newest first, each with its attempts (at most `limit`, default 50). */
  async webhookDeliveries(id: string, opts: { limit?: number } = {}): Promise<WebhookDelivery[]> {
    const query = { limit: opts.limit };
    const w = await httpOf(this).json(routes.webhookDeliveries, { params: { id }, query });
    return arr(w.deliveries).map((d) => webhookDeliveryFromWire(obj(d)));
  }

  /** Teams: all of them for an admin key, else the caller's. */
  async teams(): Promise<Team[]> {
    const w = await httpOf(this).json(routes.listTeams);
    return arr(w.teams).map((t) => teamFromWire(obj(t)));
  }

  /** Creates a team (admin key). */
  async createTeam(name: string): Promise<Team> {
    return teamFromWire(await httpOf(this).json(routes.createTeam, { json: { name } }));
  }

  /** One team with its limits: any team for an admin key, else the caller's. */
  async team(name: string): Promise<Team> {
    return teamFromWire(await httpOf(this).json(routes.getTeam, { params: { name } }));
  }

  /**
   * Changes a team's limits (admin key): each given is set, 0 for none,
   * -1 for the server's default.
   */
  async updateTeam(name: string, limits: UpdateTeamOptions): Promise<Team> {
    return teamFromWire(await httpOf(this).json(routes.updateTeam, { params: { name }, json: updateTeamToWire(limits) }));
  }

  /** What teams use against their limits: the caller's team, or every team (or `team`) for an admin key. */
  async usage(team?: string): Promise<TeamUsage[]> {
    const w = await httpOf(this).json(routes.usage, team === undefined ? {} : { query: { team } });
    return arr(w.teams).map((t) => teamUsageFromWire(obj(t)));
  }

  /** The cluster's nodes (admin key); a single host is a cluster of one. */
  async nodes(): Promise<Node[]> {
    const w = await httpOf(this).json(routes.listNodes);
    return arr(w.nodes).map((n) => nodeFromWire(obj(n)));
  }

  /**
   * Cordons a node (`cordoned`: it takes no new sandboxes and keeps its
   * own) or makes it ready again (`ready`). Admin key.
   */
  async setNodeState(name: string, state: 'cordoned' | 'ready'): Promise<Node> {
    return nodeFromWire(await httpOf(this).json(routes.setNodeState, { params: { name }, json: { state } }));
  }

  /** Stops a node taking new sandboxes; it keeps its own (admin key). */
  async cordon(name: string): Promise<Node> {
    return this.setNodeState(name, 'cordoned');
  }

  /** Lets a cordoned node take new sandboxes again (admin key). */
  async uncordon(name: string): Promise<Node> {
    return this.setNodeState(name, 'ready');
  }

  /**
   * Drains a node (admin key): it takes no new sandboxes, and each sandbox
   * running on it is paused and resumed on another node, one at a time.
   * onEvent sees each sandbox's outcome as it comes; resolves to the
   * summary (`node`, `moved`, `failed`).
   */
  async drain(node: string, onEvent?: (e: DrainEvent) => void): Promise<DrainEvent> {
    let summary: DrainEvent | undefined;
    await httpOf(this).ndjson(routes.drainNode, { params: { name: node } }, (w) => {
      const e = drainEventFromWire(w);
      if (e.done) summary = e;
      else onEvent?.(e);
    });
    if (!summary) throw new RuntoolsError(`draining ${node}: the drain ended without a summary`, { code: 'unavailable', status: 0 });
    return summary;
  }

  /** API keys of the caller's team (of every team for an admin key). */
  async keys(): Promise<ApiKey[]> {
    const w = await httpOf(this).json(routes.listKeys);
    return arr(w.keys).map((k) => apiKeyFromWire(obj(k)));
  }

  /** Creates an API key; its secret is in this answer only. */
  async createKey(opts: CreateKeyOptions): Promise<ApiKey> {
    return apiKeyFromWire(await httpOf(this).json(routes.createKey, { json: createKeyToWire(opts) }));
  }

  /** Revokes an API key by ID or name. */
  async deleteKey(ref: string): Promise<void> {
    await httpOf(this).empty(routes.deleteKey, { params: { ref } });
  }

  /**
   * A live stream of the status changes of every sandbox of the team, and,
   * while a metrics listener is there, the metrics of each running one every
   * second: `client.watch().on('status', fn).on('metrics', fn)`.
   */
  watch(opts: WatchOptions = {}): Watcher {
    return new Watcher(httpOf(this), routes.watchTeam, {}, 'opt-in', opts);
  }
}
