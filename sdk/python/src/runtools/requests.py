"""The request bodies the SDK sends, as TypedDicts named after the spec.

``WIRE_SCHEMAS`` says where api/openapi.yaml describes each one, so
tests/test_openapi.py checks that their keys are the spec's.
"""

from __future__ import annotations

from typing import Dict, List, Tuple, TypedDict


class EgressRequest(TypedDict, total=False):
    """An egress policy: ``default`` "allow" or "deny", and rules."""

    default: str
    allow: List[str]
    deny: List[str]


class CreateRequest(TypedDict, total=False):
    """POST /v1/sandboxes."""

    name: str
    template: str
    vcpus: int
    memory_mb: int
    env: Dict[str, str]
    metadata: Dict[str, str]
    idle_timeout: int
    public: bool
    ports: List[int]
    password: str
    egress: EgressRequest
    disk: str
    auto_start: bool
    labels: Dict[str, str]
    timeout: int
    on_timeout: str
    volumes: List["VolumeMountRequest"]


class VolumeMountRequest(TypedDict, total=False):
    """A volume to mount: its name or ID, where, and whether read-only."""

    volume: str
    path: str
    read_only: bool


class CreateVolumeRequest(TypedDict, total=False):
    """POST /v1/volumes."""

    name: str
    size_mb: int


class UpdateRequest(TypedDict, total=False):
    """PATCH /v1/sandboxes/{ref}."""

    idle_timeout: int
    public: bool
    auto_start: bool
    timeout: int
    on_timeout: str
    labels: Dict[str, str]
    remove_labels: List[str]


class ExecRequest(TypedDict, total=False):
    """POST .../exec and .../processes; ``stdin`` is base64."""

    cmd: List[str]
    env: Dict[str, str]
    cwd: str
    user: str
    timeout_ms: int
    stdin: str
    background: bool
    stdin_open: bool


class ForkRequest(TypedDict, total=False):
    """POST .../fork."""

    name: str
    snapshot: str


class SnapshotRequest(TypedDict, total=False):
    """POST .../snapshots."""

    name: str
    pin: bool


class RollbackRequest(TypedDict, total=False):
    """POST .../rollback."""

    snapshot: str


class PortRequest(TypedDict, total=False):
    """POST .../ports."""

    port: int


class LinkRequest(TypedDict, total=False):
    """POST .../links."""

    port: int
    ttl_seconds: int


class SaveRequest(TypedDict, total=False):
    """POST .../save."""

    template: str


class SSHKeyRequest(TypedDict, total=False):
    """POST /v1/ssh-keys."""

    name: str
    public_key: str


class TemplateUpdate(TypedDict, total=False):
    """PATCH /v1/templates/{name}."""

    public: bool
    team: str


class CreateKeyRequest(TypedDict, total=False):
    """POST /v1/keys."""

    name: str
    team: str
    admin: bool


class ComputerAction(TypedDict, total=False):
    """POST .../computer/actions: one act on a desktop's mouse or keyboard, or a launch."""

    action: str
    x: int
    y: int
    button: str
    count: int
    dx: int
    dy: int
    text: str
    keys: List[str]
    app: str
    args: List[str]


class WebhookRequest(TypedDict, total=False):
    """POST /v1/webhooks."""

    url: str
    events: List[str]


class MoveRequest(TypedDict, total=False):
    """POST /v1/sandboxes/{ref}/move: the node to go to; left out, placement picks."""

    node: str


class NodeStateRequest(TypedDict):
    """PATCH /v1/nodes/{name}: "cordoned" or "ready"."""

    state: str


def _body(path: str, method: str) -> Tuple[str, ...]:
    return ("paths", path, method, "requestBody", "content", "application/json", "schema")


_SB = "/v1/sandboxes/{ref}"
class UpdateTeamRequest(TypedDict, total=False):
    """PATCH /v1/teams/{name}: each limit given is set; 0 is none, -1 the server's default."""

    max_sandboxes: int
    max_vcpus: int
    max_memory_mb: int
    max_disk_bytes: int
    max_builds: int


# Where each request body is described in api/openapi.yaml.
WIRE_SCHEMAS: Dict[type, Tuple[str, ...]] = {
    EgressRequest: ("components", "schemas", "Egress"),
    CreateRequest: ("components", "schemas", "CreateRequest"),
    VolumeMountRequest: ("components", "schemas", "VolumeMount"),
    CreateVolumeRequest: ("components", "schemas", "CreateVolumeRequest"),
    UpdateRequest: _body(_SB, "patch"),
    ExecRequest: ("components", "schemas", "ExecRequest"),
    ForkRequest: _body(_SB + "/fork", "post"),
    SnapshotRequest: _body(_SB + "/snapshots", "post"),
    RollbackRequest: _body(_SB + "/rollback", "post"),
    PortRequest: _body(_SB + "/ports", "post"),
    LinkRequest: _body(_SB + "/links", "post"),
    SaveRequest: _body(_SB + "/save", "post"),
    SSHKeyRequest: _body("/v1/ssh-keys", "post"),
    TemplateUpdate: _body("/v1/templates/{name}", "patch"),
    CreateKeyRequest: ("components", "schemas", "CreateKeyRequest"),
    UpdateTeamRequest: ("components", "schemas", "UpdateTeamRequest"),
    WebhookRequest: ("components", "schemas", "CreateWebhookRequest"),
    ComputerAction: _body(_SB + "/computer/actions", "post"),
    MoveRequest: ("components", "schemas", "MoveRequest"),
    NodeStateRequest: _body("/v1/nodes/{name}", "patch"),
}
