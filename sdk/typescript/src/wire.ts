/**
 * Conversion between the API's snake_case JSON and the SDK's camelCase
 * types. Maps the user owns (env, metadata) are copied as they are.
 */
import type {
  ApiKey,
  ComputerAction,
  ComputerResult,
  CreateKeyOptions,
  CreateOptions,
  DrainEvent,
  Egress,
  FileInfo,
  Identity,
  Link,
  Metrics,
  Node,
  NodeState,
  OutputEvent,
  Point,
  ProcessInfo,
  SandboxEvent,
  SandboxInfo,
  SandboxState,
  ScreenSize,
  Snapshot,
  SshKey,
  Status,
  Quota,
  Team,
  TeamUsage,
  Template,
  TemplateConfig,
  TemplateProgress,
  UpdateOptions,
  UpdateTeamOptions,
  Volume,
  VolumeMount,
  Webhook,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEvent,
  WebhookEventType,
  Window,
} from './types.js';
import { fromBase64 } from './base64.js';
import type { components } from './gen/openapi.js';

/** A decoded JSON object of an answer. */
export type Wire = Record<string, unknown>;

/**
 * The API's JSON types, generated from api/openapi.yaml by every build (npm run gen). Each
 * conversion reads its answer as the spec's type, so the compiler refuses a
 * field the spec does not have.
 */
type S = components['schemas'];

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function optStr(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function optNum(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function bool(v: unknown): boolean {
  return v === true;
}

function date(v: unknown): Date {
  return typeof v === 'string' ? new Date(v) : new Date(0);
}

function optDate(v: unknown): Date | undefined {
  return typeof v === 'string' && v !== '' ? new Date(v) : undefined;
}

function obj(v: unknown): Wire {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Wire) : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) {
    if (typeof val === 'string') out[k] = val;
  }
  return out;
}

/** Drops undefined fields, so the server's strict decoder sees only what was set. */
/** o without its undefined fields: the JSON of a request body of type T. */
function compact<T extends object>(o: T): T {
  const out: Wire = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

export function sandboxFromWire(x: Wire): SandboxInfo {
  const w = x as S['Sandbox'];
  const ssh = w.ssh === undefined || w.ssh === null ? undefined : obj(w.ssh);
  return {
    id: str(w.id),
    name: str(w.name),
    team: str(w.team),
    template: str(w.template),
    state: str(w.state) as SandboxState,
    stopReason: optStr(w.stop_reason),
    vcpus: num(w.vcpus),
    memoryMb: num(w.memory_mb),
    diskMb: num(w.disk_mb),
    disk: w.disk === 'ephemeral' ? 'ephemeral' : 'durable',
    autoStart: bool(w.auto_start),
    ip: optStr(w.ip),
    idleTimeout: num(w.idle_timeout),
    public: bool(w.public),
    ports: arr(w.ports).filter((p): p is number => typeof p === 'number'),
    urls: arr(w.urls).map((u) => ({ port: num(obj(u).port), url: str(obj(u).url) })),
    accessToken: optStr(w.access_token),
    ssh: ssh && {
      user: str(ssh.user),
      host: str(ssh.host),
      port: num(ssh.port),
      command: str(ssh.command),
      hostKey: optStr(ssh.host_key),
    },
    desktop: bool(w.desktop),
    vncReady: bool(w.vnc_ready),
    limitHit: optStr(w.limit_hit),
    egress: egressFromWire(obj(w.egress)),
    env: strMap(w.env),
    metadata: strMap(w.metadata),
    labels: strMap(w.labels),
    volumes: arr(w.volumes).map((m) => mountFromWire(obj(m))),
    timeoutAt: optDate(w.timeout_at),
    onTimeout: w.on_timeout,
    pausedTtlAt: optDate(w.paused_ttl_at),
    node: optStr(w.node),
    createdAt: date(w.created_at),
    startedAt: optDate(w.started_at),
    stoppedAt: optDate(w.stopped_at),
  };
}

export function createToWire(o: CreateOptions): S['CreateRequest'] {
  return compact<S['CreateRequest']>({
    name: o.name,
    template: o.template,
    vcpus: o.vcpus,
    memory_mb: o.memory,
    env: o.env,
    metadata: o.metadata,
    idle_timeout: o.idleTimeout,
    public: o.public,
    ports: o.ports,
    password: o.password,
    egress: o.egress && egressToWire(o.egress),
    disk: o.disk,
    auto_start: o.autoStart,
    labels: o.labels,
    timeout: o.timeout,
    on_timeout: o.onTimeout,
    volumes: o.volumes?.map((m) => compact<S['VolumeMount']>({ volume: m.volume, path: m.path, read_only: m.readOnly })),
  });
}

function mountFromWire(x: Wire): VolumeMount {
  const w = x as S['VolumeMount'];
  return { volume: str(w.volume), path: str(w.path), readOnly: bool(w.read_only) };
}

export function volumeFromWire(x: Wire): Volume {
  const w = x as S['Volume'];
  return {
    id: str(w.id),
    name: str(w.name),
    team: str(w.team),
    sizeMb: num(w.size_mb),
    sizeBytes: num(w.size_bytes),
    usedBytes: num(w.used_bytes),
    usedBy: arr(w.used_by).map(str),
    createdAt: date(w.created_at),
  };
}

export function egressToWire(e: Egress): S['Egress'] {
  return compact<S['Egress']>({ default: e.default, allow: e.allow, deny: e.deny });
}

function egressFromWire(x: Wire): Egress {
  const w = x as S['Egress'];
  const strs = (v: unknown) => arr(v).filter((s): s is string => typeof s === 'string');
  return { default: w.default === 'deny' ? 'deny' : 'allow', allow: strs(w.allow), deny: strs(w.deny) };
}

export function updateToWire(o: UpdateOptions): Wire {
  return compact({
    idle_timeout: o.idleTimeout,
    public: o.public,
    auto_start: o.autoStart,
    timeout: o.timeout,
    on_timeout: o.onTimeout,
    labels: o.labels,
    remove_labels: o.removeLabels,
  });
}

export function sandboxEventFromWire(x: Wire): SandboxEvent {
  const w = x as S['SandboxEvent'];
  return { at: date(w.at), from: str(w.from), to: str(w.to), why: optStr(w.why) };
}

export function outputEventFromWire(x: Wire): OutputEvent {
  const w = x as S['Event'];
  switch (w.type) {
    case 'start':
      return { type: 'start', pid: num(w.pid) };
    case 'stdout':
    case 'stderr':
      return { type: w.type, data: fromBase64(str(w.data)) };
    case 'exit':
      return { type: 'exit', exitCode: typeof w.exit_code === 'number' ? w.exit_code : -1, timedOut: bool(w.timed_out) };
    case 'error':
      return { type: 'error', message: str(w.message), code: optStr(w.code) };
  }
  throw new TypeError(`unknown output event type ${JSON.stringify(w.type)}`);
}

export function processFromWire(x: Wire): ProcessInfo {
  const w = x as S['Process'];
  return {
    pid: num(w.pid),
    cmd: arr(w.cmd).map(str),
    startedAt: date(w.started_at),
    running: bool(w.running),
    exitCode: optNum(w.exit_code),
    stdinOpen: bool(w.stdin_open),
  };
}

export function fileInfoFromWire(x: Wire): FileInfo {
  const w = x as S['FileInfo'];
  return {
    name: str(w.name),
    path: str(w.path),
    type: str(w.type) as FileInfo['type'],
    size: num(w.size),
    mode: num(w.mode),
    modTime: date(w.mod_time),
    linkTarget: optStr(w.link_target),
  };
}

export function snapshotFromWire(x: Wire): Snapshot {
  const w = x as S['Snapshot'];
  return { id: str(w.id), name: str(w.name), sizeBytes: num(w.size_bytes), pinned: bool(w.pinned), createdAt: date(w.created_at) };
}

export function linkFromWire(w: Wire): Link {
  return { url: str(w.url), expiresAt: date(w.expires_at) };
}

export function sshKeyFromWire(x: Wire): SshKey {
  const w = x as S['SSHKey'];
  return {
    id: str(w.id),
    name: str(w.name),
    fingerprint: str(w.fingerprint),
    publicKey: str(w.public_key),
    createdAt: date(w.created_at),
  };
}

export function templateFromWire(x: Wire): Template {
  const w = x as S['Template'];
  return {
    name: str(w.name),
    aliases: arr(w.aliases).map(str),
    description: str(w.description),
    status: str(w.status) as Template['status'],
    sizeBytes: num(w.size_bytes),
    builtAt: optDate(w.built_at),
    error: optStr(w.error),
    packages: strMap(w.packages),
    tracked: arr(w.tracked).map(str),
    custom: bool(w.custom),
    version: optNum(w.version),
    team: optStr(w.team),
    public: bool(w.public),
    builtBy: optStr(w.built_by),
    from: optStr(w.from),
    dockerfile: optStr(w.dockerfile),
    layers: arr(w.layers).map((l) => {
      const o = obj(l);
      return { id: str(o.id), createdBy: str(o.created_by), sizeBytes: num(o.size_bytes) };
    }),
    config: w.config === undefined ? undefined : templateConfigFromWire(obj(w.config)),
  };
}

function templateConfigFromWire(x: Wire): TemplateConfig {
  const w = x as NonNullable<S['Template']['config']>;
  return {
    env: arr(w.env).map(str),
    workdir: optStr(w.workdir),
    user: optStr(w.user),
    entrypoint: arr(w.entrypoint).map(str),
    cmd: arr(w.cmd).map(str),
    ports: arr(w.ports).map(num),
    labels: strMap(w.labels),
    memoryMb: optNum(w.memory_mb),
    desktop: bool(w.desktop),
  };
}

export function templateProgressFromWire(x: Wire): TemplateProgress {
  const w = x as S['TemplateProgress'];
  return {
    template: str(w.template),
    step: str(w.step),
    detail: optStr(w.detail),
    elapsedMs: num(w.elapsed_ms),
    done: bool(w.done),
    error: optStr(w.error),
    index: optNum(w.index),
    total: optNum(w.total),
    line: optNum(w.line),
    cached: bool(w.cached),
    code: optStr(w.code),
  };
}

export function identityFromWire(x: Wire): Identity {
  const w = x as S['Identity'];
  return { team: str(w.team), key: str(w.key), admin: bool(w.admin) };
}

export function teamFromWire(x: Wire): Team {
  const w = x as S['Team'];
  const t: Team = { id: str(w.id), name: str(w.name), createdAt: date(w.created_at) };
  if (w.limits) {
    const l = w.limits;
    t.limits = {
      maxSandboxes: num(l.max_sandboxes), maxVcpus: num(l.max_vcpus), maxMemoryMb: num(l.max_memory_mb),
      maxDiskBytes: num(l.max_disk_bytes), maxBuilds: num(l.max_builds),
    };
  }
  return t;
}

export function updateTeamToWire(o: UpdateTeamOptions): S['UpdateTeamRequest'] {
  return compact<S['UpdateTeamRequest']>({
    max_sandboxes: o.maxSandboxes, max_vcpus: o.maxVcpus, max_memory_mb: o.maxMemoryMb,
    max_disk_bytes: o.maxDiskBytes, max_builds: o.maxBuilds,
  });
}

export function quotaFromWire(x: Wire): Quota {
  const w = x as S['Quota'];
  const q: Quota = { name: str(w.name) as Quota['name'], unit: str(w.unit), used: num(w.used), limit: num(w.limit) };
  if (w.requested !== undefined) q.requested = num(w.requested);
  if (w.hint !== undefined) q.hint = str(w.hint);
  return q;
}

export function teamUsageFromWire(x: Wire): TeamUsage {
  const w = x as S['TeamUsage'];
  const d = (w.disk ?? {}) as S['DiskUsage'];
  return {
    team: str(w.team),
    quotas: arr(w.quotas).map((q) => quotaFromWire(obj(q))),
    disk: { pausedBytes: num(d.paused_bytes), snapshotBytes: num(d.snapshot_bytes), volumeBytes: num(d.volume_bytes), templateBytes: num(d.template_bytes) },
  };
}

export function nodeFromWire(x: Wire): Node {
  const w = x as S['Node'];
  return {
    name: str(w.name),
    state: str(w.state) as NodeState,
    self: bool(w.self),
    apiUrl: str(w.api_url),
    sandboxes: num(w.sandboxes),
    slots: num(w.slots),
    vcpus: num(w.vcpus),
    memoryMb: num(w.memory_mb),
    diskMb: num(w.disk_mb),
    usedVcpus: num(w.used_vcpus),
    usedMemoryMb: num(w.used_memory_mb),
    templates: arr(w.templates).map(str),
    startedAt: date(w.started_at),
    heartbeatAt: date(w.heartbeat_at),
    leaseUntil: date(w.lease_until),
    lostAt: optDate(w.lost_at),
  };
}

export function drainEventFromWire(x: Wire): DrainEvent {
  const w = x as S['DrainEvent'];
  return {
    sandbox: optStr(w.sandbox),
    name: optStr(w.name),
    from: optStr(w.from),
    to: optStr(w.to),
    ip: optStr(w.ip),
    awayMs: optNum(w.away_ms),
    error: optStr(w.error),
    done: bool(w.done),
    node: optStr(w.node),
    moved: optNum(w.moved),
    failed: optNum(w.failed),
  };
}

export function apiKeyFromWire(x: Wire): ApiKey {
  const w = x as S['APIKey'];
  return {
    id: str(w.id),
    name: str(w.name),
    team: str(w.team),
    admin: bool(w.admin),
    createdAt: date(w.created_at),
    secret: optStr(w.secret),
  };
}

export function createKeyToWire(o: CreateKeyOptions): S['CreateKeyRequest'] {
  return compact<S['CreateKeyRequest']>({ name: o.name, team: o.team, admin: o.admin });
}

export function statusFromWire(x: Wire, seq: number): Status {
  const w = x as NonNullable<S['WatchEvent']['status']>;
  const state = str(w.state) as SandboxState;
  return {
    sandboxId: str(w.sandbox_id),
    status: state,
    state,
    reason: optStr(w.reason),
    sshReady: bool(w.ssh_ready),
    vncReady: bool(w.vnc_ready),
    at: date(w.at),
    labels: strMap(w.labels),
    timeoutAt: optDate(w.timeout_at),
    seq,
  };
}

export function metricsFromWire(x: Wire): Metrics {
  const w = x as NonNullable<S['WatchEvent']['metrics']>;
  return {
    sandboxId: str(w.sandbox_id),
    at: date(w.at),
    cpuPercent: num(w.cpu_percent),
    memPercent: num(w.mem_percent),
    memBytes: num(w.mem_bytes),
    memLimitBytes: num(w.mem_limit_bytes),
    netRxBytesPerSec: num(w.net_rx_bytes_per_sec),
    netTxBytesPerSec: num(w.net_tx_bytes_per_sec),
    diskUsedBytes: num(w.disk_used_bytes),
    diskLimitBytes: num(w.disk_limit_bytes),
  };
}

export function pointFromWire(x: Wire): Point {
  const w = x as S['Point'];
  return { x: num(w.x), y: num(w.y) };
}

export function screenSizeFromWire(w: Wire): ScreenSize {
  return { width: num(w.width), height: num(w.height) };
}

export function windowFromWire(x: Wire): Window {
  const w = x as S['Window'];
  return { id: str(w.id), title: str(w.title) };
}

export function actionToWire(a: ComputerAction): Wire {
  return compact({
    action: a.action,
    x: a.x,
    y: a.y,
    button: a.button,
    count: a.count,
    dx: a.dx,
    dy: a.dy,
    text: a.text,
    keys: a.keys,
    app: a.app,
    args: a.args,
  });
}

export function computerResultFromWire(w: Wire): ComputerResult {
  return {
    cursor: pointFromWire(obj(w.cursor)),
    pid: optNum(w.pid),
    window: w.window === undefined || w.window === null ? undefined : windowFromWire(obj(w.window)),
  };
}

export { arr, obj };

export function webhookFromWire(x: Wire): Webhook {
  const w = x as S['Webhook'];
  return {
    id: str(w.id),
    url: str(w.url),
    events: arr(w.events).map((e) => str(e) as WebhookEventType),
    createdAt: date(w.created_at),
    secret: optStr(w.secret),
  };
}

export function webhookDeliveryFromWire(x: Wire): WebhookDelivery {
  const w = x as S['WebhookDelivery'];
  return {
    id: str(w.id),
    eventId: str(w.event_id),
    type: str(w.type) as WebhookEventType,
    state: str(w.state) as WebhookDelivery['state'],
    createdAt: date(w.created_at),
    nextAttemptAt: optDate(w.next_attempt_at),
    doneAt: optDate(w.done_at),
    lastStatus: optNum(w.last_status),
    lastError: optStr(w.last_error),
    attempts: arr(w.attempts).map((a) => webhookAttemptFromWire(obj(a))),
  };
}

function webhookAttemptFromWire(x: Wire): WebhookAttempt {
  const w = x as S['WebhookAttempt'];
  return { n: num(w.n), at: date(w.at), status: optNum(w.status), error: optStr(w.error), durationMs: num(w.duration_ms) };
}

export function webhookEventFromWire(x: Wire): WebhookEvent {
  const w = x as S['WebhookEvent'];
  const sb = w.sandbox === undefined || w.sandbox === null ? undefined : (obj(w.sandbox) as S['WebhookSandbox']);
  return {
    id: str(w.id),
    type: str(w.type) as WebhookEventType,
    createdAt: date(w.created_at),
    team: str(w.team),
    sandbox: sb && { id: str(sb.id), name: str(sb.name), template: str(sb.template), state: str(sb.state), labels: strMap(sb.labels) },
    data: obj(w.data),
  };
}
