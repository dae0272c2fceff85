"""The sync Client: one connection to a runtools server, for sandboxes,
templates, SSH keys, teams and API keys. Safe to share between threads.

    client = Client()                      # RUNTOOLS_URL, RUNTOOLS_API_KEY
    sb = client.create(template="base")
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import httpx

from . import _calls as calls
from . import routes
from ._base import EgressArg, VolumeArg, create_request
from ._fold import BuildFold, DrainFold
from ._http import Call, SyncHTTP
from ._tar import Data, chunks_of, context_stream
from ._wire import decode, encode, items
from .config import resolve
from .errors import InvalidArgument
from .files import VolumeFiles
from .models import (APIKey, DrainEvent, Identity, Node, SandboxInfo, SSHKey, Team, TeamUsage, Template, TemplateProgress,
                     Volume, Webhook, WebhookDelivery)
from .sandbox import Sandbox, handle
from .watch import Watcher

Progress = Callable[[TemplateProgress], Any]


class Client:
    """A runtools server and the API key to use; url and api_key default to RUNTOOLS_URL and
    RUNTOOLS_API_KEY. ``http_client`` replaces the httpx.Client (a proxy, tests)."""

    def __init__(self, url: Optional[str] = None, api_key: Optional[str] = None, *,
                 http_client: Optional[httpx.Client] = None) -> None:
        self._http = SyncHTTP(resolve(url, api_key), http_client)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self._http.cfg.url

    def __repr__(self) -> str:
        return f"Client(url={self.url!r})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connections."""
        self._http.close()

    # --- sandboxes ----------------------------------------------------------------------------

    def create(self, template: Optional[str] = None, *, name: Optional[str] = None, vcpus: Optional[int] = None,
               memory_mb: Optional[int] = None, env: Optional[Mapping[str, str]] = None,
               metadata: Optional[Mapping[str, str]] = None, idle_timeout: Optional[int] = None,
               public: Optional[bool] = None, ports: Optional[Sequence[int]] = None,
               password: Optional[str] = None, egress: EgressArg = None, disk: Optional[str] = None,
               auto_start: Optional[bool] = None, labels: Optional[Mapping[str, str]] = None,
               timeout: Optional[int] = None, on_timeout: Optional[str] = None,
               volumes: Optional[Sequence[VolumeArg]] = None, keep: bool = False) -> Sandbox:
        """Makes a sandbox and returns once it runs. template defaults to ``base``; vcpus 1-8 (2),
        memory_mb 128-16384 (1024), idle_timeout seconds before it pauses (600; 0 never), disk
        "durable" or "ephemeral", egress a policy such as {"default": "deny"}; labels to find it by
        (list(labels=...)); timeout its hard lifetime in seconds, after which it is destroyed, or
        paused with on_timeout="pause"."""
        req = create_request(template, name=name, vcpus=vcpus, memory_mb=memory_mb, env=env, metadata=metadata,
                             idle_timeout=idle_timeout, public=public, ports=ports, password=password,
                             egress=egress, disk=disk, auto_start=auto_start, labels=labels, timeout=timeout,
                             on_timeout=on_timeout, volumes=volumes)
        return Sandbox(self, decode(SandboxInfo, self._http.json(calls.create(req))), keep=keep)

    def get(self, ref: str) -> Sandbox:
        """The sandbox with this ID or name."""
        return Sandbox(self, decode(SandboxInfo, self._http.json(calls.sb(routes.get_sandbox, ref))), keep=True)

    def connect(self, ref: str) -> Sandbox:
        """The sandbox with this ID or name, resumed (or started) first unless it runs."""
        sb = self.get(ref)
        if sb.state in ("paused", "pausing", "stopped"):
            sb.resume()
        return sb

    def list(self, all: bool = False, labels: Optional[Mapping[str, str]] = None) -> List[Sandbox]:
        """The team's sandboxes, newest first; with all, destroyed ones too; with labels, only
        those with every one of them."""
        data = self._http.json(calls.list_sandboxes(all, labels))
        return [Sandbox(self, decode(SandboxInfo, s), keep=True) for s in items(data, "sandboxes")]

    def sandbox(self, ref: str) -> Sandbox:
        """A handle without asking the server; its fields are empty until refresh()."""
        return handle(self, ref)

    def destroy(self, ref: str) -> None:
        """Destroys a sandbox by ID or name."""
        self._http.send(calls.sb(routes.destroy_sandbox, ref))

    def move(self, ref: str, node: Optional[str] = None) -> Sandbox:
        """Moves a paused sandbox (or one whose node is lost) to another node of the cluster, node or
        the one placement picks, and resumes it there: its name, URLs and SSH stay, its IP changes."""
        return Sandbox(self, decode(SandboxInfo, self._http.json(calls.move(ref, node))), keep=True)

    def watch(self, after: int = 0, metrics: bool = False) -> Watcher:
        """Status changes of every sandbox of the team (and the metrics of
        each running one every second, with metrics=True): ``client.watch().on("status", fn)``."""
        return Watcher(self._http, None, after, team_metrics=metrics)

    # --- templates ----------------------------------------------------------------------------

    def templates(self) -> List[Template]:
        """The templates sandboxes can be made from."""
        return [decode(Template, t) for t in items(self._http.json(Call(routes.list_templates)), "templates")]

    def template(self, name: str) -> Template:
        """One template by name or alias, with what its build installed."""
        return decode(Template, self._http.json(calls.template(routes.get_template, name)))

    def template_history(self, name: str) -> List[Template]:
        """Every version of one of the team's custom templates, newest first."""
        data = self._http.json(calls.template(routes.template_history, name))
        return [decode(Template, t) for t in items(data, "versions")]

    def remove_template(self, name: str) -> None:
        """Removes one of the team's custom templates, every version (Conflict while a sandbox uses it)."""
        self._http.send(calls.template(routes.remove_template, name))

    def set_template_public(self, name: str, public: bool, team: Optional[str] = None) -> Template:
        """Lets every team use a custom template, or only its own again (admin key)."""
        body: Dict[str, Any] = {"public": public}
        if team:
            body["team"] = team
        return decode(Template, self._http.json(calls.template(routes.update_template, name, body)))

    def build_template(self, name: str, *, context: Optional[str] = None, context_tar: Optional[Data] = None,
                       dockerfile: Optional[str] = None, build_args: Optional[Mapping[str, str]] = None,
                       no_cache: bool = False, image: Optional[str] = None,
                       image_archive: Optional[Data] = None, progress: Optional[Progress] = None) -> Template:
        """Builds the next version of the team's template name from a Dockerfile in a context
        directory (context=, streamed as a tar; dockerfile= a path, default context/Dockerfile) or a
        context tar, or from an image (image="python:3.12-slim") or an image archive (docker save).
        Each step goes to progress; a failed build raises its kind (InvalidArgument for a bad
        Dockerfile or a failing RUN)."""
        call = build_call(name, context, context_tar, dockerfile, build_args, no_cache, image, image_archive)
        fold = BuildFold(progress)
        with self._http.stream(call) as resp:
            for line in resp.iter_lines():
                fold.feed(line)
        fold.check(name)
        return self.template(name)

    def rebuild_template(self, name: str, progress: Optional[Progress] = None) -> Template:
        """Builds a built-in template again from its recipe (admin key)."""
        fold = BuildFold(progress)
        with self._http.stream(calls.build(name)) as resp:
            for line in resp.iter_lines():
                fold.feed(line)
        fold.check(name)
        return self.template(name)

    # --- keys and teams -----------------------------------------------------------------------

    def me(self) -> Identity:
        """Which team and key the client authenticates as."""
        return decode(Identity, self._http.json(Call(routes.me)))

    # --- volumes ------------------------------------------------------------------------------

    def create_volume(self, name: str, size_mb: Optional[int] = None) -> Volume:
        """Makes an empty volume of size_mb (default 1024): a named disk of the team that sandboxes
        mount (create(volumes=["NAME:/PATH"])) and that outlives them."""
        return decode(Volume, self._http.json(calls.create_volume(name, size_mb)))

    def volumes(self) -> List[Volume]:
        """The team's volumes, by name, with their use."""
        return [decode(Volume, v) for v in items(self._http.json(Call(routes.list_volumes)), "volumes")]

    def volume(self, ref: str) -> Volume:
        """A volume by name or ID, with its size, use and the sandboxes that mount it."""
        return decode(Volume, self._http.json(calls.volume(routes.get_volume, ref)))

    def remove_volume(self, ref: str) -> None:
        """Removes a volume and its data; one that a sandbox not destroyed mounts is kept (Conflict)."""
        self._http.send(calls.volume(routes.remove_volume, ref))

    def volume_files(self, ref: str) -> VolumeFiles:
        """The files of a volume, read and written without a sandbox."""
        return VolumeFiles(self._http, ref)

    def add_ssh_key(self, name: str, public_key: str) -> SSHKey:
        """Registers an SSH public key (one authorized_keys line) for the team."""
        body = {"name": name, "public_key": public_key}
        return decode(SSHKey, self._http.json(Call(routes.add_ssh_key, json=body)))

    def ssh_keys(self) -> List[SSHKey]:
        """The team's SSH keys."""
        return [decode(SSHKey, k) for k in items(self._http.json(Call(routes.list_ssh_keys)), "ssh_keys")]

    def remove_ssh_key(self, ref: str) -> None:
        """Revokes an SSH key by name or ID."""
        self._http.send(Call(routes.remove_ssh_key, {"ref": ref}))

    def create_webhook(self, url: str, events: Optional[Sequence[str]] = None) -> Webhook:
        """Adds a webhook for the team's sandbox events (default: every type); its ``secret`` is in this answer only."""
        return decode(Webhook, self._http.json(calls.create_webhook(url, events)))

    def webhooks(self) -> List[Webhook]:
        """The team's webhooks (their secrets are never shown again)."""
        return [decode(Webhook, h) for h in items(self._http.json(Call(routes.list_webhooks)), "webhooks")]

    def remove_webhook(self, webhook_id: str) -> None:
        """Removes a webhook; its pending deliveries are dropped."""
        self._http.send(Call(routes.remove_webhook, {"id": webhook_id}))

    def webhook_deliveries(self, webhook_id: str, limit: Optional[int] = None) -> List[WebhookDelivery]:
        """A webhook's delivery log, newest first, each with its attempts (at most ``limit``, default 50)."""
        answer = self._http.json(calls.webhook_deliveries(webhook_id, limit))
        return [decode(WebhookDelivery, d) for d in items(answer, "deliveries")]

    def teams(self) -> List[Team]:
        """Teams: all for an admin key, else the caller's."""
        return [decode(Team, t) for t in items(self._http.json(Call(routes.list_teams)), "teams")]

    def create_team(self, name: str) -> Team:
        """Makes a team (admin key)."""
        return decode(Team, self._http.json(Call(routes.create_team, json={"name": name})))

    def team(self, name: str) -> Team:
        """One team with its limits: any team for an admin key, else the caller's."""
        return decode(Team, self._http.json(Call(routes.get_team, {"name": name})))

    def update_team(self, name: str, *, max_sandboxes: Optional[int] = None, max_vcpus: Optional[int] = None,
                    max_memory_mb: Optional[int] = None, max_disk_bytes: Optional[int] = None,
                    max_builds: Optional[int] = None) -> Team:
        """Changes a team's limits (admin key): each given is set, 0 for none, -1 for the
        server's default; those left out stay."""
        limits = {"max_sandboxes": max_sandboxes, "max_vcpus": max_vcpus, "max_memory_mb": max_memory_mb,
                  "max_disk_bytes": max_disk_bytes, "max_builds": max_builds}
        return decode(Team, self._http.json(calls.update_team(name, limits)))

    def usage(self, team: Optional[str] = None) -> List[TeamUsage]:
        """What teams use against their limits: the caller's team, or every team (or team)
        for an admin key."""
        answer = self._http.json(Call(routes.usage, query={"team": team}))
        return [decode(TeamUsage, t) for t in items(answer, "teams")]

    # --- cluster nodes (admin key) -------------------------------------------------------------

    def nodes(self) -> List[Node]:
        """The cluster's nodes (a single host is a cluster of one): state, load, lease."""
        return [decode(Node, n) for n in items(self._http.json(Call(routes.list_nodes)), "nodes")]

    def set_node_state(self, name: str, state: str) -> Node:
        """Cordons a node (state "cordoned": it takes no new sandboxes and keeps its own) or makes it
        ready again ("ready")."""
        return decode(Node, self._http.json(calls.node_state(name, state)))

    def cordon(self, name: str) -> Node:
        """Stops a node taking new sandboxes; it keeps its own."""
        return self.set_node_state(name, "cordoned")

    def uncordon(self, name: str) -> Node:
        """Lets a cordoned node take new sandboxes again."""
        return self.set_node_state(name, "ready")

    def drain(self, node: str, on_event: Optional[Callable[[DrainEvent], Any]] = None) -> DrainEvent:
        """Drains a node: it takes no new sandboxes, and each sandbox running on it is paused and
        resumed on another node, one at a time. on_event gets each sandbox's outcome as it comes;
        the summary (node, moved, failed) is returned."""
        fold = DrainFold(on_event)
        with self._http.stream(calls.drain(node)) as resp:
            for line in resp.iter_lines():
                fold.feed(line)
        return fold.result(node)

    def keys(self) -> List[APIKey]:
        """API keys of the caller's team (every team's for an admin key)."""
        return [decode(APIKey, k) for k in items(self._http.json(Call(routes.list_keys)), "keys")]

    def create_key(self, name: str, team: Optional[str] = None, admin: bool = False) -> APIKey:
        """Makes an API key; its secret is in this answer only."""
        body: Dict[str, Any] = {"name": name, "team": team, "admin": True if admin else None}
        return decode(APIKey, self._http.json(Call(routes.create_key, json=encode(body))))

    def delete_key(self, ref: str) -> None:
        """Revokes an API key by ID or name."""
        self._http.send(Call(routes.delete_key, {"ref": ref}))


def build_call(name: str, context: Optional[str], context_tar: Optional[Data],
            dockerfile: Optional[str], build_args: Optional[Mapping[str, str]], no_cache: bool,
            image: Optional[str], image_archive: Optional[Data]) -> Call:
    """The call of a template build from the arguments of build_template."""
    opts: Any = {"build_args": build_args, "no_cache": no_cache}
    if image:
        return calls.build(name, image=image, **opts)
    if image_archive is not None:
        return calls.build(name, body=chunks_of(image_archive), image_archive=True, **opts)
    if context_tar is not None:
        return calls.build(name, body=chunks_of(context_tar), dockerfile=dockerfile, **opts)
    if context is None:
        raise InvalidArgument("a build needs context= (a directory with a Dockerfile), context_tar=, "
                          "image= or image_archive=; rebuild a built-in template with rebuild_template()")
    inside, outside = _dockerfile_in(context, dockerfile)
    return calls.build(name, body=context_stream(context, outside), dockerfile=inside, **opts)


def _dockerfile_in(context: str, dockerfile: Optional[str]) -> "tuple[Optional[str], Optional[str]]":
    """Where the Dockerfile is: its path inside the context, or a path outside it to add."""
    if dockerfile is None:
        return None, None
    rel = os.path.relpath(os.path.abspath(dockerfile), os.path.abspath(context))
    if rel == ".." or rel.startswith(".." + os.sep):
        return ".runtools.Dockerfile", dockerfile
    return rel.replace(os.sep, "/"), None
