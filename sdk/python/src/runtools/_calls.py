"""Every request the SDK makes, built without I/O.

The sync and async classes send these and decode the answers the same
way, so the two APIs cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Union

from . import routes
from ._http import Call
from ._tar import Data, chunks_of
from ._wire import encode
from .models import Egress
from .requests import (ComputerAction, CreateRequest, CreateVolumeRequest, EgressRequest, ExecRequest, MoveRequest,
                       NodeStateRequest, SnapshotRequest, UpdateRequest, UpdateTeamRequest, VolumeMountRequest)

NDJSON = "application/x-ndjson"
OCTETS = "application/octet-stream"
TAR = "application/x-tar"


def sb(route: routes.Route, ref: str, body: Any = None, **params: Union[str, int]) -> Call:
    """A call on one sandbox, with a JSON body."""
    return Call(route, {"ref": ref, **params}, json=body)


def create_webhook(url: str, events: Optional[Sequence[str]]) -> Call:
    return Call(routes.create_webhook, json=encode({"url": url, "events": list(events) if events else None}))


def webhook_deliveries(webhook_id: str, limit: Optional[int]) -> Call:
    return Call(routes.webhook_deliveries, {"id": webhook_id}, query={"limit": limit})


def create(req: CreateRequest) -> Call:
    return Call(routes.create_sandbox, json=encode(req))


def list_sandboxes(all: bool, labels: Optional[Mapping[str, str]] = None) -> Call:
    label = [f"{k}={v}" for k, v in (labels or {}).items()]
    return Call(routes.list_sandboxes, query={"all": True if all else None, "label": label or None})


def update_request(idle_timeout: Optional[int], public: Optional[bool], auto_start: Optional[bool],
                   timeout: Optional[int], on_timeout: Optional[str], labels: Optional[Mapping[str, str]],
                   remove_labels: Optional[Sequence[str]]) -> UpdateRequest:
    """The body of an update, with what was given."""
    out: UpdateRequest = encode({
        "idle_timeout": idle_timeout, "public": public, "auto_start": auto_start, "timeout": timeout,
        "on_timeout": on_timeout, "labels": dict(labels) if labels else None,
        "remove_labels": list(remove_labels) if remove_labels else None})
    return out


def update(ref: str, req: UpdateRequest) -> Call:
    return sb(routes.update_sandbox, ref, dict(req))


def egress(ref: str, policy: Union[Egress, EgressRequest, Mapping[str, Any]]) -> Call:
    return sb(routes.set_egress, ref, encode(policy))


def snapshot(ref: str, name: Optional[str], pin: bool = False) -> Call:
    req: SnapshotRequest = encode({"name": name or None, "pin": True if pin else None})
    return sb(routes.take_snapshot, ref, req)


def rollback(ref: str, snapshot: Optional[str]) -> Call:
    return sb(routes.rollback, ref, {"snapshot": snapshot} if snapshot else {})


def fork(ref: str, name: Optional[str], snapshot: Optional[str]) -> Call:
    return sb(routes.fork, ref, encode({"name": name, "snapshot": snapshot}))


def move(ref: str, node: Optional[str]) -> Call:
    req: MoveRequest = {"node": node} if node else {}
    return sb(routes.move_sandbox, ref, dict(req))


def node_state(name: str, state: str) -> Call:
    req: NodeStateRequest = {"state": state}
    return Call(routes.set_node_state, {"name": name}, json=dict(req))


def drain(name: str) -> Call:
    return Call(routes.drain_node, {"name": name}, accept=NDJSON)


def link(ref: str, port: int, ttl_seconds: Optional[int]) -> Call:
    return sb(routes.signed_link, ref, encode({"port": port, "ttl_seconds": ttl_seconds}))


def exec_stream(ref: str, req: ExecRequest) -> Call:
    return Call(routes.exec_, {"ref": ref}, json=dict(req), accept=NDJSON)


def start_process(ref: str, req: ExecRequest, stdin_open: bool) -> Call:
    body: Dict[str, Any] = {**req, "background": True}
    if stdin_open:
        body["stdin_open"] = True
    return sb(routes.start_process, ref, body)


def output(ref: str, pid: int, follow: bool) -> Call:
    return Call(routes.process_output, {"ref": ref, "pid": pid}, query={"follow": follow}, accept=NDJSON)


def signal(ref: str, pid: int, sig: Union[str, int]) -> Call:
    return sb(routes.signal_process, ref, {"signal": str(sig)}, pid=pid)


def stdin(ref: str, pid: int, data: bytes, eof: bool) -> Call:
    return Call(routes.process_stdin, {"ref": ref, "pid": pid}, query={"eof": True if eof else None},
                content=data, content_type=OCTETS)


def file(route: routes.Route, ref: str, path: str, **query: Any) -> Call:
    """A file call: the path, and other query parameters."""
    return Call(route, {"ref": ref}, query={"path": path, **query})


def write_file(route: routes.Route, ref: str, path: str, data: Data, mode: Optional[int], mkdirs: bool) -> Call:
    q = {"path": path, "mode": f"0{mode:o}" if mode is not None else None, "mkdirs": True if mkdirs else None}
    return Call(route, {"ref": ref}, query=q, content=chunks_of(data), content_type=OCTETS)


def write_archive(ref: str, remote_dir: str, tar: Any) -> Call:
    return Call(routes.write_archive, {"ref": ref}, query={"path": remote_dir}, content=tar, content_type=TAR)


def watch(route: routes.Route, ref: Optional[str], after: int, metrics: Optional[bool]) -> Call:
    params = {"ref": ref} if ref else {}
    q = {"after": after if after > 0 else None, "metrics": metrics}
    return Call(route, params, query=q, accept="text/event-stream")


def act(ref: str, action: ComputerAction) -> Call:
    return sb(routes.computer_action, ref, dict(action))


def build(name: str, *, body: Any = None, dockerfile: Optional[str] = None,
          build_args: Optional[Mapping[str, str]] = None, no_cache: bool = False,
          image: Optional[str] = None, image_archive: bool = False) -> Call:
    """POST /v1/templates/{name}/build: a context tar, an image, an image archive, or nothing (a built-in)."""
    q: Dict[str, Any] = {
        "dockerfile": dockerfile,
        "build_arg": [f"{k}={v}" for k, v in (build_args or {}).items()] or None,
        "no_cache": True if no_cache else None,
        "image": image,
        "image_archive": True if image_archive else None,
    }
    return Call(routes.build_template, {"name": name}, query=q, content=body,
                content_type=TAR if body is not None else None, accept=NDJSON)


def template(route: routes.Route, name: str, body: Any = None) -> Call:
    return Call(route, {"name": name}, json=body)


def code(ref: str, body: Dict[str, Any]) -> Call:
    return Call(routes.run_code, {"ref": ref}, json=body, accept=NDJSON)


def code_context(route: routes.Route, ref: str, id: str = "", body: Any = None) -> Call:
    params: Dict[str, Union[str, int]] = {"ref": ref}
    if id:
        params["id"] = id
    return Call(route, params, json=body)


def create_request(name: Optional[str], template: Optional[str], vcpus: Optional[int],
                   memory_mb: Optional[int], env: Optional[Mapping[str, str]],
                   metadata: Optional[Mapping[str, str]], idle_timeout: Optional[int],
                   public: Optional[bool], ports: Optional[Sequence[int]], password: Optional[str],
                   egress: Union[Egress, EgressRequest, Mapping[str, Any], None], disk: Optional[str],
                   auto_start: Optional[bool], labels: Optional[Mapping[str, str]] = None,
                   timeout: Optional[int] = None, on_timeout: Optional[str] = None,
                   volumes: Optional[Sequence[VolumeArg]] = None) -> CreateRequest:
    """The body of a create, with what was given."""
    out: Dict[str, Any] = encode({
        "labels": dict(labels) if labels else None, "timeout": timeout, "on_timeout": on_timeout,
        "volumes": [volume_mount(v) for v in volumes] if volumes else None,
        "name": name, "template": template, "vcpus": vcpus, "memory_mb": memory_mb,
        "env": dict(env) if env else None, "metadata": dict(metadata) if metadata else None,
        "idle_timeout": idle_timeout, "public": public, "ports": list(ports) if ports else None,
        "password": password, "egress": egress, "disk": disk, "auto_start": auto_start,
    })
    return out  # type: ignore[return-value]


def update_team(name: str, limits: Dict[str, Optional[int]]) -> Call:
    """PATCH /v1/teams/{name} with the limits given (not None)."""
    body: UpdateTeamRequest = {k: v for k, v in limits.items() if v is not None}  # type: ignore[assignment]
    return Call(routes.update_team, {"name": name}, json=dict(body))


# A volume to mount: "NAME:/PATH" or "NAME:/PATH:ro", or {"volume", "path", "read_only"}.
VolumeArg = Union[str, VolumeMountRequest, Mapping[str, Any]]


def volume_mount(v: VolumeArg) -> VolumeMountRequest:
    """A mount from "NAME:/PATH[:ro]" (as the CLI's --volume) or a mapping."""
    if not isinstance(v, str):
        return dict(v)  # type: ignore[return-value]
    parts = v.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("/") or parts[2:] not in ([], ["ro"], ["rw"]):
        raise ValueError(f"volume mount {v!r}: want NAME:/PATH or NAME:/PATH:ro")
    out: VolumeMountRequest = {"volume": parts[0], "path": parts[1]}
    if parts[2:] == ["ro"]:
        out["read_only"] = True
    return out


def create_volume(name: str, size_mb: Optional[int]) -> Call:
    body: CreateVolumeRequest = {"name": name}
    if size_mb is not None:
        body["size_mb"] = size_mb
    return Call(routes.create_volume, json=body)


def volume(route: routes.Route, ref: str) -> Call:
    return Call(route, {"ref": ref})
