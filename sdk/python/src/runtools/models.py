"""The wire types: what the server's answers hold, as dataclasses.

Field names are the wire's (api/openapi.yaml). ``WIRE_SCHEMAS`` says which
schema of the spec each one is, so tests/test_openapi.py checks both ways
that they have the same fields. Times are aware datetimes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

_WIRE_FROM = {"wire": "from"}
_LOCAL = {"local": True}


@dataclass
class Egress:
    """Where a sandbox may connect: ``default`` allow or deny, then allow and deny rules (IPs, CIDRs, domains)."""

    default: Optional[str] = None
    allow: Optional[List[str]] = None
    deny: Optional[List[str]] = None


@dataclass
class PortURL:
    """An exposed port and its dev-server URL."""

    port: int = 0
    url: str = ""


@dataclass
class SSHAccess:
    """How to SSH into a sandbox through the gateway."""

    user: str = ""
    host: str = ""
    port: int = 0
    command: str = ""
    host_key: Optional[str] = None


@dataclass
class SandboxInfo:
    """A sandbox as the server last described it."""

    id: str = ""
    name: str = ""
    team: str = ""
    template: str = ""
    state: str = ""
    stop_reason: Optional[str] = None
    disk: str = ""
    auto_start: bool = False
    idle_timeout: int = 0
    public: bool = False
    ports: List[int] = field(default_factory=list)
    urls: List[PortURL] = field(default_factory=list)
    access_token: Optional[str] = None
    desktop: bool = False
    vnc_ready: bool = False
    limit_hit: Optional[str] = None
    egress: Egress = field(default_factory=Egress)
    ssh: Optional[SSHAccess] = None
    vcpus: int = 0
    memory_mb: int = 0
    disk_mb: int = 0
    ip: Optional[str] = None
    env: Dict[str, str] = field(default_factory=dict)
    metadata: Dict[str, str] = field(default_factory=dict)
    labels: Dict[str, str] = field(default_factory=dict)
    volumes: List["VolumeMount"] = field(default_factory=list)
    timeout_at: Optional[datetime] = None
    on_timeout: Optional[str] = None
    paused_ttl_at: Optional[datetime] = None
    node: Optional[str] = None  # the server (cluster node) that runs it
    created_at: Optional[datetime] = None
    started_at: Optional[datetime] = None
    stopped_at: Optional[datetime] = None


@dataclass
class VolumeMount:
    """A volume mounted into a sandbox at ``path``, read-only if ``read_only``."""

    volume: str = ""
    path: str = ""
    read_only: bool = False


@dataclass
class Volume:
    """A team's named persistent disk: it outlives the sandboxes that mount it. ``size_bytes`` is what
    it holds (a write beyond fails with ENOSPC), ``used_bytes`` what its files take, ``used_by`` the
    sandboxes (not destroyed) that mount it."""

    id: str = ""
    name: str = ""
    team: str = ""
    size_mb: int = 0
    size_bytes: int = 0
    used_bytes: int = 0
    used_by: List[str] = field(default_factory=list)
    created_at: Optional[datetime] = None


@dataclass
class SandboxEvent:
    """A recorded state change of a sandbox."""

    at: Optional[datetime] = None
    from_: str = field(default="", metadata=_WIRE_FROM)
    to: str = ""
    why: Optional[str] = None


@dataclass
class Snapshot:
    """A named save of a sandbox's memory and disk."""

    id: str = ""
    name: str = ""
    size_bytes: int = 0
    pinned: bool = False
    created_at: Optional[datetime] = None


@dataclass
class Link:
    """A signed link that opens a private port in a browser until it expires."""

    url: str = ""
    expires_at: Optional[datetime] = None


@dataclass
class SSHKey:
    """A team's SSH public key."""

    id: str = ""
    name: str = ""
    fingerprint: str = ""
    public_key: str = ""
    created_at: Optional[datetime] = None


@dataclass
class Webhook:
    """A URL the team's events are POSTed to; ``secret`` only in the answer that added it."""

    id: str = ""
    url: str = ""
    events: List[str] = field(default_factory=list)
    created_at: Optional[datetime] = None
    secret: Optional[str] = None


@dataclass
class WebhookAttempt:
    """One try of a delivery: the receiver's HTTP status (None: no answer) or the error."""

    n: int = 0
    at: Optional[datetime] = None
    status: Optional[int] = None
    error: Optional[str] = None
    duration_ms: int = 0


@dataclass
class WebhookDelivery:
    """One event on its way to a webhook: pending, delivered or failed, with every attempt."""

    id: str = ""
    event_id: str = ""
    type: str = ""
    state: str = ""
    created_at: Optional[datetime] = None
    next_attempt_at: Optional[datetime] = None
    done_at: Optional[datetime] = None
    last_status: Optional[int] = None
    last_error: Optional[str] = None
    attempts: List[WebhookAttempt] = field(default_factory=list)


@dataclass
class WebhookSandbox:
    """The sandbox a webhook event is about, as it was then."""

    id: str = ""
    name: str = ""
    template: str = ""
    state: str = ""
    labels: Dict[str, str] = field(default_factory=dict)


@dataclass
class WebhookEvent:
    """The body of a webhook delivery (verify_webhook returns it). ``id`` is the same on every retry."""

    id: str = ""
    type: str = ""
    created_at: Optional[datetime] = None
    team: str = ""
    sandbox: Optional[WebhookSandbox] = None
    data: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ExecEvent:
    """One line of a command's output stream; ``data`` is raw bytes (base64 on the wire)."""

    type: str = ""
    pid: Optional[int] = None
    data: Optional[str] = None
    exit_code: Optional[int] = None
    timed_out: bool = False
    message: Optional[str] = None
    code: Optional[str] = None

    @property
    def bytes(self) -> bytes:
        """The output this event carries."""
        return base64.b64decode(self.data) if self.data else b""


@dataclass
class ExecResult:
    """A finished command: its output (UTF-8 decoded) and exit code (124 after its timeout)."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = -1
    timed_out: bool = False
    error: Optional[str] = None


@dataclass
class ProcessInfo:
    """A process started through the API."""

    pid: int = 0
    cmd: List[str] = field(default_factory=list)
    started_at: Optional[datetime] = None
    running: bool = False
    exit_code: Optional[int] = None
    stdin_open: bool = False


@dataclass
class FileInfo:
    """A path inside a sandbox."""

    name: str = ""
    path: str = ""
    type: str = ""
    size: int = 0
    mode: int = 0
    mod_time: Optional[datetime] = None
    link_target: Optional[str] = None


@dataclass
class TemplateLayer:
    """One layer of a custom template."""

    id: str = ""
    created_by: str = ""
    size_bytes: int = 0


@dataclass
class TemplateConfig:
    """What a template's sandboxes start with."""

    env: Optional[List[str]] = None
    workdir: Optional[str] = None
    user: Optional[str] = None
    entrypoint: Optional[List[str]] = None
    cmd: Optional[List[str]] = None
    ports: Optional[List[int]] = None
    labels: Optional[Dict[str, str]] = None
    memory_mb: Optional[int] = None
    desktop: bool = False


@dataclass
class Template:
    """A template sandboxes are made from, built-in or the team's own."""

    name: str = ""
    aliases: List[str] = field(default_factory=list)
    description: str = ""
    status: str = ""
    size_bytes: int = 0
    built_at: Optional[datetime] = None
    error: Optional[str] = None
    packages: Dict[str, str] = field(default_factory=dict)
    tracked: List[str] = field(default_factory=list)
    custom: bool = False
    version: int = 0
    team: Optional[str] = None
    public: bool = False
    built_by: Optional[str] = None
    from_: Optional[str] = field(default=None, metadata=_WIRE_FROM)
    dockerfile: Optional[str] = None
    layers: List[TemplateLayer] = field(default_factory=list)
    config: Optional[TemplateConfig] = None


@dataclass
class TemplateProgress:
    """One line of a template build's progress."""

    template: str = ""
    step: str = ""
    detail: Optional[str] = None
    elapsed_ms: int = 0
    done: bool = False
    error: Optional[str] = None
    index: Optional[int] = None
    total: Optional[int] = None
    line: Optional[int] = None
    cached: bool = False
    code: Optional[str] = None


@dataclass
class Identity:
    """Who an API key belongs to."""

    team: str = ""
    key: str = ""
    admin: bool = False


@dataclass
class TeamLimits:
    """What a team may use (its own limits, else the server's); 0 is no limit."""

    max_sandboxes: int = 0  # running sandboxes at once
    max_vcpus: int = 0  # of its running sandboxes together
    max_memory_mb: int = 0  # of its running sandboxes together
    max_disk_bytes: int = 0  # paused sandboxes' images, snapshots, volumes, custom templates
    max_builds: int = 0  # template builds (and saves) at once


@dataclass
class Team:
    """A team, with its limits (None from a server that keeps no quotas)."""

    id: str = ""
    name: str = ""
    created_at: Optional[datetime] = None
    limits: Optional[TeamLimits] = None


@dataclass
class Quota:
    """One of a team's limits with its use: an item of TeamUsage, or the limit that
    refused a request (``RuntoolsError.quota``, with ``requested`` and ``hint``)."""

    name: str = ""  # sandboxes, vcpus, memory_mb, disk_bytes or builds
    unit: str = ""
    used: int = 0
    limit: int = 0  # 0: no limit
    requested: Optional[int] = None
    hint: Optional[str] = None


@dataclass
class DiskUsage:
    """What makes up a team's disk use, in bytes."""

    paused_bytes: int = 0
    snapshot_bytes: int = 0
    volume_bytes: int = 0
    template_bytes: int = 0


@dataclass
class TeamUsage:
    """What a team uses against each of its limits."""

    team: str = ""
    quotas: List[Quota] = field(default_factory=list)
    disk: DiskUsage = field(default_factory=DiskUsage)


@dataclass
class Node:
    """One server of a cluster (a single host is a cluster of one). ``state`` is ready, cordoned,
    draining or lost (its lease ran out); ``self`` marks the node that answered; ``sandboxes``
    run on it (or start, pause, stop) of at most ``slots``."""

    name: str = ""
    state: str = ""
    self: bool = False
    api_url: str = ""
    sandboxes: int = 0
    slots: int = 0
    vcpus: int = 0
    memory_mb: int = 0
    disk_mb: int = 0
    used_vcpus: int = 0
    used_memory_mb: int = 0
    templates: List[str] = field(default_factory=list)
    started_at: Optional[datetime] = None
    heartbeat_at: Optional[datetime] = None
    lease_until: Optional[datetime] = None
    lost_at: Optional[datetime] = None


@dataclass
class DrainEvent:
    """One line of a drain's progress: a sandbox moved ``from_`` one node ``to`` another (its new
    ``ip``, ``away_ms`` from its pause to its resume), or not (``error``); or, with ``done``, the
    summary: the ``node`` drained, how many sandboxes ``moved`` and how many ``failed``."""

    sandbox: Optional[str] = None
    name: Optional[str] = None
    from_: Optional[str] = field(default=None, metadata=_WIRE_FROM)
    to: Optional[str] = None
    ip: Optional[str] = None
    away_ms: Optional[int] = None
    error: Optional[str] = None
    done: bool = False
    node: Optional[str] = None
    moved: Optional[int] = None
    failed: Optional[int] = None


@dataclass
class APIKey:
    """An API key; ``secret`` only in the answer that created it."""

    id: str = ""
    name: str = ""
    team: str = ""
    admin: bool = False
    created_at: Optional[datetime] = None
    secret: Optional[str] = None


@dataclass
class Point:
    """A position on a desktop's screen, in pixels from the top left."""

    x: int = 0
    y: int = 0


@dataclass
class ScreenSize:
    """A desktop's screen size in pixels."""

    width: int = 0
    height: int = 0


@dataclass
class Window:
    """A top-level window on a desktop's screen."""

    id: str = ""
    title: str = ""


@dataclass
class ComputerResult:
    """What a computer-use action left: the cursor, and for a launch its process and window."""

    cursor: Point = field(default_factory=Point)
    pid: Optional[int] = None
    window: Optional[Window] = None


@dataclass
class Status:
    """A state change of a sandbox, from its watch; ``status`` is ``state``, ``seq`` its place in the stream."""

    sandbox_id: str = ""
    state: str = ""
    reason: Optional[str] = None
    ssh_ready: bool = False
    vnc_ready: bool = False
    at: Optional[datetime] = None
    labels: Dict[str, str] = field(default_factory=dict)
    timeout_at: Optional[datetime] = None
    seq: int = field(default=0, metadata=_LOCAL)

    @property
    def status(self) -> str:
        """The new state."""
        return self.state


@dataclass
class Metrics:
    """A sandbox's resource use over the last second; CPU % is of its vCPUs (100 = all busy)."""

    sandbox_id: str = ""
    at: Optional[datetime] = None
    cpu_percent: float = 0.0
    mem_percent: float = 0.0
    mem_bytes: int = 0
    mem_limit_bytes: int = 0
    net_rx_bytes_per_sec: float = 0.0
    net_tx_bytes_per_sec: float = 0.0
    disk_used_bytes: int = 0
    disk_limit_bytes: int = 0


@dataclass
class WatchEvent:
    """One event of a watch stream: a status change or metrics."""

    type: str = ""
    seq: int = 0
    status: Optional[Status] = None
    metrics: Optional[Metrics] = None


def _path(*keys: str) -> Tuple[str, ...]:
    return keys


def _answer(path: str, method: str, code: str = "200") -> Tuple[str, ...]:
    return ("paths", path, method, "responses", code, "content", "application/json", "schema")


# Where each wire type is described in api/openapi.yaml: a path of keys
# from the document's root.
WIRE_SCHEMAS: Dict[type, Tuple[str, ...]] = {
    Egress: _path("components", "schemas", "Egress"),
    SandboxInfo: _path("components", "schemas", "Sandbox"),
    PortURL: _path("components", "schemas", "Sandbox", "properties", "urls", "items"),
    SSHAccess: _path("components", "schemas", "Sandbox", "properties", "ssh"),
    SandboxEvent: _path("components", "schemas", "SandboxEvent"),
    VolumeMount: _path("components", "schemas", "VolumeMount"),
    Volume: _path("components", "schemas", "Volume"),
    Snapshot: _path("components", "schemas", "Snapshot"),
    Link: _answer("/v1/sandboxes/{ref}/links", "post"),
    SSHKey: _path("components", "schemas", "SSHKey"),
    Webhook: _path("components", "schemas", "Webhook"),
    WebhookAttempt: _path("components", "schemas", "WebhookAttempt"),
    WebhookDelivery: _path("components", "schemas", "WebhookDelivery"),
    WebhookSandbox: _path("components", "schemas", "WebhookSandbox"),
    WebhookEvent: _path("components", "schemas", "WebhookEvent"),
    ExecEvent: _path("components", "schemas", "Event"),
    ExecResult: _path("components", "schemas", "ExecResult"),
    ProcessInfo: _path("components", "schemas", "Process"),
    FileInfo: _path("components", "schemas", "FileInfo"),
    Template: _path("components", "schemas", "Template"),
    TemplateLayer: _path("components", "schemas", "Template", "properties", "layers", "items"),
    TemplateConfig: _path("components", "schemas", "Template", "properties", "config"),
    TemplateProgress: _path("components", "schemas", "TemplateProgress"),
    Identity: _path("components", "schemas", "Identity"),
    Team: _path("components", "schemas", "Team"),
    TeamLimits: _path("components", "schemas", "TeamLimits"),
    Quota: _path("components", "schemas", "Quota"),
    DiskUsage: _path("components", "schemas", "DiskUsage"),
    TeamUsage: _path("components", "schemas", "TeamUsage"),
    APIKey: _path("components", "schemas", "APIKey"),
    Node: _path("components", "schemas", "Node"),
    DrainEvent: _path("components", "schemas", "DrainEvent"),
    Point: _path("components", "schemas", "Point"),
    ScreenSize: _answer("/v1/sandboxes/{ref}/computer/screen", "get"),
    Window: _path("components", "schemas", "Window"),
    ComputerResult: _answer("/v1/sandboxes/{ref}/computer/actions", "post"),
    Status: _path("components", "schemas", "WatchEvent", "properties", "status"),
    Metrics: _path("components", "schemas", "WatchEvent", "properties", "metrics"),
    WatchEvent: _path("components", "schemas", "WatchEvent"),
}
