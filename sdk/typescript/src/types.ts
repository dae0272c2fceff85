/**
 * The data the API returns and takes, in camelCase. The wire is snake_case
 * JSON; wire.ts converts between the two.
 */

/** A sandbox's lifecycle state. */
export type SandboxState =
  | 'creating'
  | 'running'
  | 'pausing'
  | 'paused'
  | 'resuming'
  | 'stopping'
  | 'stopped'
  | 'destroyed'
  | 'error';

/** A dev-server URL of a sandbox port. */
export interface PortUrl {
  port: number;
  url: string;
}

/** How to reach a sandbox with ssh. */
export interface SshAccess {
  user: string;
  host: string;
  port: number;
  /** e.g. `ssh sandbox-abc@host -p 2222` */
  command: string;
  /** The gateway's host key (authorized_keys format), for a known_hosts line. */
  hostKey?: string;
}

/** A sandbox as the API reports it. */
export interface SandboxInfo {
  id: string;
  name: string;
  team: string;
  template: string;
  state: SandboxState;
  /** Why it stopped: stopped (on request), oom, crashed, host restarted, destroyed, timeout, paused_ttl, create_failed, interrupted, lost or restore_failed, with detail. */
  stopReason?: string;
  vcpus: number;
  memoryMb: number;
  diskMb: number;
  /** `durable` (on the host: what it fsyncs outlives a crash and a stop) or `ephemeral` (in its memory). */
  disk: 'durable' | 'ephemeral';
  /** A use of it while it is stopped starts it. */
  autoStart: boolean;
  ip?: string;
  /** Seconds without activity before the sandbox is paused; 0 never pauses it. */
  idleTimeout: number;
  /** Public dev-server URLs need no access token. */
  public: boolean;
  /** Ports reachable through the dev-server URLs. */
  ports: number[];
  /** Their URLs. */
  urls: PortUrl[];
  /** Opens private dev-server URLs: send it as the `X-Runtools-Access-Token` header, or use a signed link. */
  accessToken?: string;
  ssh?: SshAccess;
  /** A desktop sandbox serves its desktop at the URL of port 6901. */
  desktop: boolean;
  /** The desktop is up. */
  vncReady: boolean;
  /** The last limit the running sandbox hit, e.g. `limit: memory: ...`. */
  limitHit?: string;
  /** Its egress policy. */
  egress: Egress;
  env: Record<string, string>;
  metadata: Record<string, string>;
  /** Its labels, to find it by: `list({ labels })`. */
  labels: Record<string, string>;
  /** The team's volumes it mounts. */
  volumes: VolumeMount[];
  /** When its hard lifetime runs out; then it is destroyed, or paused if onTimeout is `pause`. */
  timeoutAt?: Date;
  /** What its timeout does: `destroy` or `pause`. */
  onTimeout?: 'destroy' | 'pause';
  /** When, paused, it is destroyed for staying paused (the server's --paused-ttl). */
  pausedTtlAt?: Date;
  /** The server (cluster node) that runs it: `move` takes it to another. */
  node?: string;
  createdAt: Date;
  startedAt?: Date;
  stoppedAt?: Date;
}

/** Options of a new sandbox. Left out, each takes the server's default. */
export interface CreateOptions {
  /** Unique per team: lowercase letters, digits, dashes. */
  name?: string;
  /** Default `base`. */
  template?: string;
  /** 1-8, default 2. */
  vcpus?: number;
  /** Memory in MB, 128-16384, default 1024. */
  memory?: number;
  /** The default environment of every command. */
  env?: Record<string, string>;
  metadata?: Record<string, string>;
  /** Pause after this many seconds without activity (default 600; 0 never pauses). */
  idleTimeout?: number;
  /** Dev-server URLs open to anyone, without the access token. */
  public?: boolean;
  /** Ports to expose besides the defaults (3000, 3001, 5173, 8000, 8080). */
  ports?: number[];
  /** Lets SSH logins in with this password (8-72 characters); the team's SSH keys work either way. */
  password?: string;
  /** Where the sandbox may connect outside its team's network; left out, everywhere. */
  egress?: Egress;
  /** `durable` (the default: on the host, outlives a crash and a stop) or `ephemeral` (in memory: faster, gone with its process). */
  disk?: 'durable' | 'ephemeral';
  /** A use of it while it is stopped (exec, files, SSH, URLs) starts it; default true. */
  autoStart?: boolean;
  /**
   * Labels to find it by (`list({ labels })`): keys NAME or PREFIX/NAME, names
   * and values up to 63 letters, digits, `-`, `_` and `.`; at most 64.
   */
  labels?: Record<string, string>;
  /** Hard lifetime in seconds (none by default): then it is destroyed, or paused with onTimeout `pause`. A `timeout-warning` status comes a minute before. */
  timeout?: number;
  /** What the timeout does: `destroy` (the default) or `pause`. */
  onTimeout?: 'destroy' | 'pause';
  /** The team's volumes to mount; sandboxes that mount one volume share its files. */
  volumes?: VolumeMount[];
  signal?: AbortSignal;
}

/** A volume mounted into a sandbox. */
export interface VolumeMount {
  /** The volume's name (or ID, when creating). */
  volume: string;
  /** Where it appears: absolute, not `/`, not under /proc, /sys or /dev. */
  path: string;
  /** Writes fail with EROFS. */
  readOnly?: boolean;
}

/** A team's named persistent disk: it outlives the sandboxes that mount it. */
export interface Volume {
  id: string;
  name: string;
  team: string;
  /** The size asked for, in MB. */
  sizeMb: number;
  /** What its filesystem holds; a write beyond it fails with ENOSPC. */
  sizeBytes: number;
  /** What its files take. */
  usedBytes: number;
  /** IDs of the sandboxes, not destroyed, that mount it. */
  usedBy: string[];
  createdAt: Date;
}

/**
 * A sandbox's egress policy. Deny rules win over allow rules, allow rules
 * over the default. Rules are IPv4 addresses, CIDRs or domains
 * (`example.com` itself, `*.example.com` it and its subdomains). Link-local
 * and metadata addresses, the host's addresses and other teams' sandboxes
 * are always denied; the team's own sandboxes (`NAME.internal`) always
 * reachable.
 */
export interface Egress {
  /** `allow` (the default) or `deny`. */
  default?: 'allow' | 'deny';
  allow?: string[];
  deny?: string[];
}

/** Settings that can change on a running sandbox; left out, they stay. */
export interface UpdateOptions {
  /** Seconds without activity before the sandbox is paused; 0 never. */
  idleTimeout?: number;
  /** Dev-server URLs open to anyone (true) or only with the access token (false). */
  public?: boolean;
  /** A use of it while it is stopped starts it. */
  autoStart?: boolean;
  /** The hard lifetime anew, in seconds from now; 0 removes it. */
  timeout?: number;
  /** What the timeout does (with timeout): `destroy` or `pause`. */
  onTimeout?: 'destroy' | 'pause';
  /** Labels to set (add or change). */
  labels?: Record<string, string>;
  /** Label keys to remove. */
  removeLabels?: string[];
}

/** One recorded change of a sandbox's state. */
export interface SandboxEvent {
  at: Date;
  from: string;
  to: string;
  why?: string;
}

/** Output of a running command. */
export type OutputEvent =
  | { type: 'start'; pid: number }
  | { type: 'stdout'; data: Uint8Array }
  | { type: 'stderr'; data: Uint8Array }
  | { type: 'exit'; exitCode: number; timedOut: boolean }
  | { type: 'error'; message: string; code?: string };

/** Callbacks that receive a command's output as it is produced. */
export interface StreamCallbacks {
  /** Standard output, decoded as UTF-8 (a character split between chunks is held until it is whole). */
  onStdout?: (text: string) => void;
  /** Standard error, decoded as UTF-8. */
  onStderr?: (text: string) => void;
  /** Every event, including start and exit, with raw bytes. */
  onEvent?: (event: OutputEvent) => void;
}

/** How to run a command. */
export interface ExecOptions extends StreamCallbacks {
  /** Added to the sandbox's environment. */
  env?: Record<string, string>;
  /** Absolute working directory. */
  cwd?: string;
  /** A name, uid or uid:gid; default root. */
  user?: string;
  /** Kill the command's process group after this long; its exit code is then 124. */
  timeoutMs?: number;
  /** Sent to the command's standard input, whole. */
  stdin?: string | Uint8Array;
  /** Stops waiting (the command is killed when the connection closes). */
  signal?: AbortSignal;
}

/** The collected outcome of a command. A command that ran and failed is not an error: check exitCode. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The command ran past timeoutMs and was killed. */
  timedOut: boolean;
  /** Set when the command could not start (exitCode is then non-zero). */
  error?: string;
}

/** How to start a background process. */
export type StartOptions = Omit<ExecOptions, keyof StreamCallbacks | 'signal'> & {
  signal?: AbortSignal;
  /**
   * Keep the process's stdin open: write to it while it runs with
   * sendStdin and end it with closeStdin (of its BackgroundProcess). Not
   * with stdin.
   */
  stdinOpen?: boolean;
};

/** How to read a background process's output. */
export interface OutputOptions extends StreamCallbacks {
  /** Keep streaming live output until the process exits. */
  follow?: boolean;
  signal?: AbortSignal;
}

/** A background process's output so far (or all of it, once it exited). */
export interface ProcessOutput {
  stdout: string;
  stderr: string;
  /** null while the process still runs. */
  exitCode: number | null;
}

/** A process started in a sandbox through the API. */
export interface ProcessInfo {
  pid: number;
  cmd: string[];
  startedAt: Date;
  running: boolean;
  /** Set once it exited. */
  exitCode?: number;
  /** Whether `sendStdin` reaches it: started with `stdinOpen`, and neither `closeStdin` nor its exit has closed its stdin. */
  stdinOpen: boolean;
}

/** A file, directory or link inside a sandbox. */
export interface FileInfo {
  name: string;
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  modTime: Date;
  linkTarget?: string;
}

/** Options of Files.write. */
export interface WriteOptions {
  /** Permission bits; default 0o644. */
  mode?: number;
  /** Create missing parent directories. */
  mkdirs?: boolean;
  signal?: AbortSignal;
}

/** A saved image of a sandbox's memory and disk. */
export interface Snapshot {
  id: string;
  name: string;
  sizeBytes: number;
  /** Kept when the server's snapshot cap removes the sandbox's oldest snapshots. */
  pinned: boolean;
  createdAt: Date;
}

/** Options of a fork. */
export interface ForkOptions {
  /** The new sandbox's name. */
  name?: string;
  /** The snapshot to fork from (name or ID); default the sandbox's current state. */
  snapshot?: string;
}

/** A signed URL that opens a private port until it expires. */
export interface Link {
  url: string;
  expiresAt: Date;
}

/** A public key the team's members log into its sandboxes with. */
export interface SshKey {
  id: string;
  name: string;
  fingerprint: string;
  publicKey: string;
  createdAt: Date;
}

/** A root filesystem sandboxes are made from. */
export interface Template {
  name: string;
  aliases: string[];
  description: string;
  status: 'ready' | 'building' | 'missing' | 'failed';
  sizeBytes: number;
  builtAt?: Date;
  error?: string;
  /** Versions its build installed: Debian packages by name, global npm packages as `npm:NAME`. */
  packages: Record<string, string>;
  /** The packages that matter most (the desktop's browsers, Node.js), in the order to show them. */
  tracked: string[];
  /** Built from a Dockerfile by a team; the fields below are a custom template's. */
  custom: boolean;
  /** 1 for its first build, one more for each rebuild. */
  version?: number;
  team?: string;
  /** Every team may use it. */
  public: boolean;
  /** The name of the API key that built it. */
  builtBy?: string;
  /** What its Dockerfile's last stage starts from. */
  from?: string;
  /** The Dockerfile it came from (from `template(name)` only). */
  dockerfile?: string;
  /** Its own layers, the lowest first (from `template(name)` only). */
  layers: TemplateLayer[];
  /** What its sandboxes start with. */
  config?: TemplateConfig;
}

/** One layer of a custom template: what one step wrote. */
export interface TemplateLayer {
  id: string;
  /** The instruction, e.g. `RUN npm ci`. */
  createdBy: string;
  sizeBytes: number;
}

/** What a custom template's sandboxes start with: its Dockerfile's ENV, WORKDIR, USER, ENTRYPOINT, CMD, EXPOSE and LABEL. */
export interface TemplateConfig {
  env: string[];
  workdir?: string;
  user?: string;
  entrypoint: string[];
  /** Started in the background, after the entrypoint, when a sandbox is created. */
  cmd: string[];
  ports: number[];
  labels: Record<string, string>;
  /** Its sandboxes' default memory, from a built-in base (desktop: 2048). */
  memoryMb?: number;
  /** Made from desktop: its sandboxes run the desktop, with VNC on port 6901. */
  desktop: boolean;
}

/** A Dockerfile build of a custom template, or an image's. */
export interface BuildOptions {
  /** A tar of the build context, gzipped or not, with the Dockerfile in it. */
  context?: Uint8Array | Blob | ReadableStream<Uint8Array>;
  /** An image of a registry (e.g. `python:3.12-slim`) to make the template of, instead of a context. */
  image?: string;
  /** An image archive (docker save, podman save, OCI layout tar) to make the template of, instead of a context. */
  imageArchive?: Uint8Array | Blob | ReadableStream<Uint8Array>;
  /** The Dockerfile's path in the context; default `Dockerfile`. */
  dockerfile?: string;
  /** Values for the Dockerfile's ARG. */
  buildArgs?: Record<string, string>;
  /** Run every step again. */
  noCache?: boolean;
  signal?: AbortSignal;
}

/** One step of a template build. */
export interface TemplateProgress {
  template: string;
  step: string;
  detail?: string;
  elapsedMs: number;
  done: boolean;
  error?: string;
  /** A Dockerfile build's step, from 1, of `total`, at `line` of the Dockerfile. */
  index?: number;
  total?: number;
  line?: number;
  /** The step's layer came from the cache. */
  cached: boolean;
  /** The error's kind on a failed build's last line, e.g. `invalid_argument`. */
  code?: string;
}

/** Who an API key belongs to. */
export interface Identity {
  team: string;
  key: string;
  admin: boolean;
}

/** A team: it owns sandboxes, names, API keys and SSH keys. */
export interface Team {
  id: string;
  name: string;
  createdAt: Date;
  /** What the team may use (its own limits, else the server's); absent from servers that keep no quotas. */
  limits?: TeamLimits;
}

/** What a team may use; 0 is no limit. */
export interface TeamLimits {
  /** Running sandboxes at once. */
  maxSandboxes: number;
  /** vCPUs of its running sandboxes together. */
  maxVcpus: number;
  /** Memory of its running sandboxes together, in MB. */
  maxMemoryMb: number;
  /** Paused sandboxes' images, snapshots, volumes and custom templates, in bytes. */
  maxDiskBytes: number;
  /** Template builds (and saves) at once. */
  maxBuilds: number;
}

/** Limits to change with `client.updateTeam` (an admin key): 0 is none, -1 the server's default; those left out stay. */
export type UpdateTeamOptions = Partial<TeamLimits>;

/**
 * One of a team's limits with its use: an item of {@link TeamUsage}, and
 * `error.quota` of the error a quota refused a request with (then with
 * `requested` and `hint`).
 */
export interface Quota {
  name: 'sandboxes' | 'vcpus' | 'memory_mb' | 'disk_bytes' | 'builds';
  unit: string;
  used: number;
  /** 0: no limit. */
  limit: number;
  /** What the refused request needed on top of `used`. */
  requested?: number;
  /** What to do. */
  hint?: string;
}

/** What a team uses against each of its limits. */
export interface TeamUsage {
  team: string;
  quotas: Quota[];
  disk: DiskUsage;
}

/** What makes up a team's disk use, in bytes. */
export interface DiskUsage {
  pausedBytes: number;
  snapshotBytes: number;
  volumeBytes: number;
  templateBytes: number;
}

/** A node's state: `lost` once its lease ran out. */
export type NodeState = 'ready' | 'cordoned' | 'draining' | 'lost';

/** One server of a cluster (a single host is a cluster of one), as `client.nodes()` lists it. */
export interface Node {
  name: string;
  state: NodeState;
  /** The node that answered. */
  self: boolean;
  apiUrl: string;
  /** Sandboxes running (or starting, pausing, stopping) on it. */
  sandboxes: number;
  /** How many sandboxes it runs at most. */
  slots: number;
  vcpus: number;
  memoryMb: number;
  diskMb: number;
  usedVcpus: number;
  usedMemoryMb: number;
  /** The templates it holds. */
  templates: string[];
  startedAt: Date;
  heartbeatAt: Date;
  leaseUntil: Date;
  /** When it was found lost. */
  lostAt?: Date;
}

/**
 * One line of a drain's progress: a sandbox moved (or not, with `error`),
 * or, with `done`, the summary (`node`, `moved`, `failed`).
 */
export interface DrainEvent {
  /** The sandbox's ID and name. */
  sandbox?: string;
  name?: string;
  /** The node it left and the one it went to. */
  from?: string;
  to?: string;
  /** Its new address. */
  ip?: string;
  /** From its pause to its resume on the other node, in ms. */
  awayMs?: number;
  error?: string;
  /** Set on the last line, the summary. */
  done: boolean;
  /** The summary's: the node drained, how many sandboxes moved and how many did not. */
  node?: string;
  moved?: number;
  failed?: number;
}

/** An API key. `secret` is set only in the answer that created it. */
export interface ApiKey {
  id: string;
  name: string;
  team: string;
  admin: boolean;
  createdAt: Date;
  secret?: string;
}

/** Webhook event types: what a webhook may subscribe to. */
export type WebhookEventType = 'created' | 'paused' | 'resumed' | 'destroyed' | 'error' | 'timeout' | 'limit';

/** A URL the team's events are POSTed to. `secret` is set only in the answer that created it. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: Date;
  /** The HMAC-SHA256 key of its signatures: keep it to verify deliveries (verifyWebhook). */
  secret?: string;
}

/** Options of a new webhook. */
export interface CreateWebhookOptions {
  url: string;
  /** Default: every type. */
  events?: WebhookEventType[];
}

/** One event on its way to a webhook, with every attempt. */
export interface WebhookDelivery {
  id: string;
  eventId: string;
  type: WebhookEventType;
  state: 'pending' | 'delivered' | 'failed';
  createdAt: Date;
  /** When a pending one is sent again. */
  nextAttemptAt?: Date;
  /** When it was delivered or given up. */
  doneAt?: Date;
  /** The last attempt's HTTP status; undefined: no answer. */
  lastStatus?: number;
  lastError?: string;
  attempts: WebhookAttempt[];
}

/** One try of a delivery. */
export interface WebhookAttempt {
  /** 1 for the first. */
  n: number;
  at: Date;
  /** The receiver's HTTP status; undefined: no answer. */
  status?: number;
  error?: string;
  durationMs: number;
}

/** The body of a webhook delivery, as verifyWebhook returns it. */
export interface WebhookEvent {
  /** Also the Runtools-Event-Id header: the same on every retry, so drop one already handled. */
  id: string;
  type: WebhookEventType;
  createdAt: Date;
  /** The team's ID. */
  team: string;
  /** The sandbox it is about; undefined for a team's limit event (a quota refusal). */
  sandbox?: { id: string; name: string; template: string; state: string; labels: Record<string, string> };
  /** from, to and reason of a change of state; phase and timeout_at of a timeout; detail of a limit. */
  data: Record<string, unknown>;
}

/** Options of a new API key. */
export interface CreateKeyOptions {
  name: string;
  /** Default: the caller's team; another team needs an admin key. */
  team?: string;
  /** Needs an admin key. */
  admin?: boolean;
}

/** A sandbox's state after a change, as `on('status')` delivers it. */
export interface Status {
  sandboxId: string;
  /** The new state. */
  status: SandboxState;
  /** The same as status: the name the Sandbox object and the wire use. */
  state: SandboxState;
  /** Why it changed. */
  reason?: string;
  sshReady: boolean;
  vncReady: boolean;
  at: Date;
  /** The sandbox's labels. */
  labels: Record<string, string>;
  /** When the sandbox's timeout runs out (reason `timeout-warning` a minute before, `timeout` then). */
  timeoutAt?: Date;
  /** Where this change is in the server's record; a watch resumes after it. */
  seq: number;
}

/** A sandbox's resource use over the last second, as `on('metrics')` delivers it. */
export interface Metrics {
  sandboxId: string;
  at: Date;
  /** Of its vCPUs: 100 is all of them busy. */
  cpuPercent: number;
  /** Of its memory limit, without page cache the kernel can drop. */
  memPercent: number;
  memBytes: number;
  memLimitBytes: number;
  netRxBytesPerSec: number;
  netTxBytesPerSec: number;
  /** What its writable layer takes on the host. */
  diskUsedBytes: number;
  diskLimitBytes: number;
}

/** A position on a desktop sandbox's screen, in pixels from the top left. */
export interface Point {
  x: number;
  y: number;
}

/** A desktop sandbox's screen size in pixels. */
export interface ScreenSize {
  width: number;
  height: number;
}

/** A top-level window on a desktop sandbox's screen. */
export interface Window {
  id: string;
  title: string;
}

/** One act on a desktop sandbox's screen, mouse or keyboard; the call returns once its effect is done. */
export interface ComputerAction {
  action: 'move' | 'click' | 'scroll' | 'type' | 'key' | 'launch';
  /** move: required; click, scroll: optional, with y. */
  x?: number;
  y?: number;
  /** click: default left. */
  button?: 'left' | 'middle' | 'right';
  /** click: 1-3; 2 is a double click. */
  count?: number;
  /** scroll: notches right (negative: left). */
  dx?: number;
  /** scroll: notches down (negative: up). */
  dy?: number;
  /** type: the text. */
  text?: string;
  /** key: names or combinations, e.g. `ctrl+l`, `Return`, `alt+F4`. */
  keys?: string[];
  /** launch: firefox, chromium, terminal, files, or a program on PATH. */
  app?: string;
  args?: string[];
}

/** What an action did: where the cursor is afterwards, and for a launch the process and its window. */
export interface ComputerResult {
  cursor: Point;
  pid?: number;
  window?: Window;
}
