"""The async AsyncClient: the Client API over asyncio and httpx.AsyncClient.

    client = AsyncClient()                 # RUNTOOLS_URL, RUNTOOLS_API_KEY
    sb = await client.create(template="base")
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import httpx

from . import _calls as calls
from . import routes
from ._base import EgressArg, VolumeArg, create_request
from ._fold import BuildFold, DrainFold
from ._http import Call, AsyncHTTP
from ._tar import Data
from .client import build_call
from ._wire import decode, encode, items
from .config import resolve
from .async_files import AsyncVolumeFiles
from .models import (APIKey, DrainEvent, Identity, Node, SandboxInfo, SSHKey, Team, TeamUsage, Template, TemplateProgress,
                     Volume, Webhook, WebhookDelivery)
from .async_sandbox import AsyncSandbox, handle
from .async_watch import AsyncWatcher

Progress = Callable[[TemplateProgress], Any]


class AsyncClient:
    """A runtools server and the API key to use; url and api_key default to RUNTOOLS_URL and
    RUNTOOLS_API_KEY. ``http_client`` replaces the httpx.AsyncClient (a proxy, tests)."""

    def __init__(self, url: Optional[str] = None, api_key: Optional[str] = None, *,
                 http_client: Optional[httpx.AsyncClient] = None) -> None:
        self._http = AsyncHTTP(resolve(url, api_key), http_client)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self._http.cfg.url

    def __repr__(self) -> str:
        return f"AsyncClient(url={self.url!r})"

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the connections."""
        await self._http.aclose()

    # --- sandboxes ----------------------------------------------------------------------------

    async def create(self, template: Optional[str] = None, *, name: Optional[str] = None, vcpus: Optional[int] = None,
               memory_mb: Optional[int] = None, env: Optional[Mapping[str, str]] = None,
               metadata: Optional[Mapping[str, str]] = None, idle_timeout: Optional[int] = None,
               public: Optional[bool] = None, ports: Optional[Sequence[int]] = None,
               password: Optional[str] = None, egress: EgressArg = None, disk: Optional[str] = None,
               auto_start: Optional[bool] = None, labels: Optional[Mapping[str, str]] = None,
               timeout: Optional[int] = None, on_timeout: Optional[str] = None,
               volumes: Optional[Sequence[VolumeArg]] = None, keep: bool = False) -> AsyncSandbox:
        """Makes a sandbox and returns once it runs. template defaults to ``base``; vcpus 1-8 (2),
        memory_mb 128-16384 (1024), idle_timeout seconds before it pauses (600; 0 never), disk
        "durable" or "ephemeral", egress a policy such as {"default": "deny"}; labels to find it by
        (list(labels=...)); timeout its hard lifetime in seconds, after which it is destroyed, or
        paused with on_timeout="pause"."""
        req = create_request(template, name=name, vcpus=vcpus, memory_mb=memory_mb, env=env, metadata=metadata,
                             idle_timeout=idle_timeout, public=public, ports=ports, password=password,
                             egress=egress, disk=disk, auto_start=auto_start, labels=labels, timeout=timeout,
                             on_timeout=on_timeout, volumes=volumes)
        return AsyncSandbox(self, decode(SandboxInfo, await self._http.json(calls.create(req))), keep=keep)

    async def get(self, ref: str) -> AsyncSandbox:
        """The sandbox with this ID or name."""
        return AsyncSandbox(self, decode(SandboxInfo, await self._http.json(calls.sb(routes.get_sandbox, ref))), keep=True)

    async def connect(self, ref: str) -> AsyncSandbox:
        """The sandbox with this ID or name, resumed (or started) first unless it runs."""
        sb = await self.get(ref)
        if sb.state in ("paused", "pausing", "stopped"):
            await sb.resume()
        return sb

    async def list(self, all: bool = False, labels: Optional[Mapping[str, str]] = None) -> List[AsyncSandbox]:
        """The team's sandboxes, newest first; with all, destroyed ones too; with labels, only
        those with every one of them."""
        data = await self._http.json(calls.list_sandboxes(all, labels))
        return [AsyncSandbox(self, decode(SandboxInfo, s), keep=True) for s in items(data, "sandboxes")]

    def sandbox(self, ref: str) -> AsyncSandbox:
        """A handle without asking the server; its fields are empty until refresh()."""
        return handle(self, ref)

    async def destroy(self, ref: str) -> None:
        """Destroys a sandbox by ID or name."""
        await self._http.send(calls.sb(routes.destroy_sandbox, ref))

    async def move(self, ref: str, node: Optional[str] = None) -> AsyncSandbox:
        """Moves a paused sandbox (or one whose node is lost) to another node of the cluster, node or
        the one placement picks, and resumes it there: its name, URLs and SSH stay, its IP changes."""
        return AsyncSandbox(self, decode(SandboxInfo, await self._http.json(calls.move(ref, node))), keep=True)

    def watch(self, after: int = 0, metrics: bool = False) -> AsyncWatcher:
        """Status changes of every sandbox of the team (and the metrics of
        each running one every second, with metrics=True): ``client.watch().on("status", fn)``."""
        return AsyncWatcher(self._http, None, after, team_metrics=metrics)

    # --- templates ----------------------------------------------------------------------------

    async def templates(self) -> List[Template]:
        """The templates sandboxes can be made from."""
        return [decode(Template, t) for t in items(await self._http.json(Call(routes.list_templates)), "templates")]

    async def template(self, name: str) -> Template:
        """One template by name or alias, with what its build installed."""
        return decode(Template, await self._http.json(calls.template(routes.get_template, name)))

    async def template_history(self, name: str) -> List[Template]:
        """Every version of one of the team's custom templates, newest first."""
        data = await self._http.json(calls.template(routes.template_history, name))
        return [decode(Template, t) for t in items(data, "versions")]

    async def remove_template(self, name: str) -> None:
        """Removes one of the team's custom templates, every version (Conflict while a sandbox uses it)."""
        await self._http.send(calls.template(routes.remove_template, name))

    async def set_template_public(self, name: str, public: bool, team: Optional[str] = None) -> Template:
        """Lets every team use a custom template, or only its own again (admin key)."""
        body: Dict[str, Any] = {"public": public}
        if team:
            body["team"] = team
        return decode(Template, await self._http.json(calls.template(routes.update_template, name, body)))

    async def build_template(self, name: str, *, context: Optional[str] = None, context_tar: Optional[Data] = None,
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
        async with self._http.stream(call) as resp:
            async for line in resp.aiter_lines():
                fold.feed(line)
        fold.check(name)
        return await self.template(name)

    async def rebuild_template(self, name: str, progress: Optional[Progress] = None) -> Template:
        """Builds a built-in template again from its recipe (admin key)."""
        fold = BuildFold(progress)
        async with self._http.stream(calls.build(name)) as resp:
            async for line in resp.aiter_lines():
                fold.feed(line)
        fold.check(name)
        return await self.template(name)

    # --- keys and teams -----------------------------------------------------------------------

    async def me(self) -> Identity:
        """Which team and key the client authenticates as."""
        return decode(Identity, await self._http.json(Call(routes.me)))

    # --- volumes ------------------------------------------------------------------------------

    async def create_volume(self, name: str, size_mb: Optional[int] = None) -> Volume:
        """Makes an empty volume of size_mb (default 1024): a named disk of the team that sandboxes
        mount (create(volumes=["NAME:/PATH"])) and that outlives them."""
        return decode(Volume, await self._http.json(calls.create_volume(name, size_mb)))

    async def volumes(self) -> List[Volume]:
        """The team's volumes, by name, with their use."""
        return [decode(Volume, v) for v in items(await self._http.json(Call(routes.list_volumes)), "volumes")]

    async def volume(self, ref: str) -> Volume:
        """A volume by name or ID, with its size, use and the sandboxes that mount it."""
        return decode(Volume, await self._http.json(calls.volume(routes.get_volume, ref)))

    async def remove_volume(self, ref: str) -> None:
        """Removes a volume and its data; one that a sandbox not destroyed mounts is kept (Conflict)."""
        await self._http.send(calls.volume(routes.remove_volume, ref))

    def volume_files(self, ref: str) -> AsyncVolumeFiles:
        """The files of a volume, read and written without a sandbox."""
        return AsyncVolumeFiles(self._http, ref)

    async def add_ssh_key(self, name: str, public_key: str) -> SSHKey:
        """Registers an SSH public key (one authorized_keys line) for the team."""
        body = {"name": name, "public_key": public_key}
        return decode(SSHKey, await self._http.json(Call(routes.add_ssh_key, json=body)))

    async def ssh_keys(self) -> List[SSHKey]:
        """The team's SSH keys."""
        return [decode(SSHKey, k) for k in items(await self._http.json(Call(routes.list_ssh_keys)), "ssh_keys")]

    async def remove_ssh_key(self, ref: str) -> None:
        """Revokes an SSH key by name or ID."""
        await self._http.send(Call(routes.remove_ssh_key, {"ref": ref}))

    async def create_webhook(self, url: str, events: Optional[Sequence[str]] = None) -> Webhook:
        """Adds a webhook for the team's sandbox events (default: every type); its ``secret`` is in this answer only."""
        return decode(Webhook, await self._http.json(calls.create_webhook(url, events)))

    async def webhooks(self) -> List[Webhook]:
        """The team's webhooks (their secrets are never shown again)."""
        return [decode(Webhook, h) for h in items(await self._http.json(Call(routes.list_webhooks)), "webhooks")]

    async def remove_webhook(self, webhook_id: str) -> None:
        """Removes a webhook; its pending deliveries are dropped."""
        await self._http.send(Call(routes.remove_webhook, {"id": webhook_id}))

    async def webhook_deliveries(self, webhook_id: str, limit: Optional[int] = None) -> List[WebhookDelivery]:
        """A webhook's delivery log, newest first, each with its attempts (at most ``limit``, default 50)."""
        answer = await self._http.json(calls.webhook_deliveries(webhook_id, limit))
        return [decode(WebhookDelivery, d) for d in items(answer, "deliveries")]

    async def teams(self) -> List[Team]:
        """Teams: all for an admin key, else the caller's."""
        return [decode(Team, t) for t in items(await self._http.json(Call(routes.list_teams)), "teams")]

    async def create_team(self, name: str) -> Team:
        """Makes a team (admin key)."""
        return decode(Team, await self._http.json(Call(routes.create_team, json={"name": name})))

    async def team(self, name: str) -> Team:
        """One team with its limits: any team for an admin key, else the caller's."""
        return decode(Team, await self._http.json(Call(routes.get_team, {"name": name})))

    async def update_team(self, name: str, *, max_sandboxes: Optional[int] = None, max_vcpus: Optional[int] = None,
                    max_memory_mb: Optional[int] = None, max_disk_bytes: Optional[int] = None,
                    max_builds: Optional[int] = None) -> Team:
        """Changes a team's limits (admin key): each given is set, 0 for none, -1 for the
        server's default; those left out stay."""
        limits = {"max_sandboxes": max_sandboxes, "max_vcpus": max_vcpus, "max_memory_mb": max_memory_mb,
                  "max_disk_bytes": max_disk_bytes, "max_builds": max_builds}
        return decode(Team, await self._http.json(calls.update_team(name, limits)))

    async def usage(self, team: Optional[str] = None) -> List[TeamUsage]:
        """What teams use against their limits: the caller's team, or every team (or team)
        for an admin key."""
        answer = await self._http.json(Call(routes.usage, query={"team": team}))
        return [decode(TeamUsage, t) for t in items(answer, "teams")]

    # --- cluster nodes (admin key) -------------------------------------------------------------

    async def nodes(self) -> List[Node]:
        """The cluster's nodes (a single host is a cluster of one): state, load, lease."""
        return [decode(Node, n) for n in items(await self._http.json(Call(routes.list_nodes)), "nodes")]

    async def set_node_state(self, name: str, state: str) -> Node:
        """Cordons a node (state "cordoned": it takes no new sandboxes and keeps its own) or makes it
        ready again ("ready")."""
        return decode(Node, await self._http.json(calls.node_state(name, state)))

    async def cordon(self, name: str) -> Node:
        """Stops a node taking new sandboxes; it keeps its own."""
        return await self.set_node_state(name, "cordoned")

    async def uncordon(self, name: str) -> Node:
        """Lets a cordoned node take new sandboxes again."""
        return await self.set_node_state(name, "ready")

    async def drain(self, node: str, on_event: Optional[Callable[[DrainEvent], Any]] = None) -> DrainEvent:
        """Drains a node: it takes no new sandboxes, and each sandbox running on it is paused and
        resumed on another node, one at a time. on_event gets each sandbox's outcome as it comes;
        the summary (node, moved, failed) is returned."""
        fold = DrainFold(on_event)
        async with self._http.stream(calls.drain(node)) as resp:
            async for line in resp.aiter_lines():
                fold.feed(line)
        return fold.result(node)

    async def keys(self) -> List[APIKey]:
        """API keys of the caller's team (every team's for an admin key)."""
        return [decode(APIKey, k) for k in items(await self._http.json(Call(routes.list_keys)), "keys")]

    async def create_key(self, name: str, team: Optional[str] = None, admin: bool = False) -> APIKey:
        """Makes an API key; its secret is in this answer only."""
        body: Dict[str, Any] = {"name": name, "team": team, "admin": True if admin else None}
        return decode(APIKey, await self._http.json(Call(routes.create_key, json=encode(body))))

    async def delete_key(self, ref: str) -> None:
        """Revokes an API key by ID or name."""
        await self._http.send(Call(routes.delete_key, {"ref": ref}))
