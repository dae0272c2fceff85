"""The sync Sandbox: a sandbox's fields and everything that can be done with it.

    from runtools import Sandbox
    with Sandbox.create(template="base") as sb:      # destroyed at the end unless keep=True
        r = sb.exec("ls -la")
        print(r.stdout, r.exit_code)
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _calls as calls
from . import code as codelib
from . import routes
from ._base import EgressArg, SandboxFields, VolumeArg, handle_info
from ._http import Call
from ._fold import Command, ExecFold, OnEvent, OnText, describe, exec_request
from ._wire import decode, encode, items
from .computer import Computer
from .config import Config, resolve
from .files import Files
from .models import ExecResult, Link, ProcessInfo, SandboxEvent, SandboxInfo, Snapshot, Template
from .process import Process
from .watch import Watcher

if TYPE_CHECKING:
    from .client import Client


class Sandbox(SandboxFields):
    """A sandbox. Make one with ``Sandbox.create``, find one with ``get``, ``connect`` or ``list``."""

    def __init__(self, client: "Client", info: SandboxInfo, keep: bool = False) -> None:
        self._client = client
        self._http = client._http
        self._watcher: Optional[Watcher] = None
        self.keep = keep
        self._set(info)

    # --- finding and making sandboxes ---------------------------------------------------------

    @classmethod
    def create(cls, template: Optional[str] = None, *, name: Optional[str] = None, vcpus: Optional[int] = None,
               memory_mb: Optional[int] = None, env: Optional[Mapping[str, str]] = None,
               metadata: Optional[Mapping[str, str]] = None, idle_timeout: Optional[int] = None,
               public: Optional[bool] = None, ports: Optional[Sequence[int]] = None,
               password: Optional[str] = None, egress: EgressArg = None, disk: Optional[str] = None,
               auto_start: Optional[bool] = None, labels: Optional[Mapping[str, str]] = None,
               timeout: Optional[int] = None, on_timeout: Optional[str] = None,
               volumes: Optional[Sequence[VolumeArg]] = None, keep: bool = False,
               client: Optional["Client"] = None, url: Optional[str] = None,
               api_key: Optional[str] = None) -> "Sandbox":
        """Makes a sandbox (default template ``base``) and returns once it runs; see Client.create
        for the options. Used in ``with``, it is destroyed at the end unless keep=True."""
        return _client(client, url, api_key).create(
            template, name=name, vcpus=vcpus, memory_mb=memory_mb, env=env, metadata=metadata,
            idle_timeout=idle_timeout, public=public, ports=ports, password=password, egress=egress, disk=disk,
            auto_start=auto_start, labels=labels, timeout=timeout, on_timeout=on_timeout, volumes=volumes, keep=keep)

    @classmethod
    def get(cls, ref: str, *, client: Optional["Client"] = None, url: Optional[str] = None,
            api_key: Optional[str] = None) -> "Sandbox":
        """The existing sandbox with this ID or name, as it is (kept at the end of a ``with``)."""
        return _client(client, url, api_key).get(ref)

    @classmethod
    def connect(cls, ref: str, *, client: Optional["Client"] = None, url: Optional[str] = None,
                api_key: Optional[str] = None) -> "Sandbox":
        """The existing sandbox with this ID or name, resumed first if it is paused or stopped."""
        return _client(client, url, api_key).connect(ref)

    @classmethod
    def list(cls, all: bool = False, *, labels: Optional[Mapping[str, str]] = None,
             client: Optional["Client"] = None, url: Optional[str] = None,
             api_key: Optional[str] = None) -> List["Sandbox"]:
        """The team's sandboxes, newest first; with all, destroyed ones too; with labels, only those
        with every one of them."""
        return _client(client, url, api_key).list(all=all, labels=labels)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
        if not self.keep:
            self.destroy()

    # --- state --------------------------------------------------------------------------------

    def _sandbox_call(self, call: Call) -> "Sandbox":
        self._set_json(self._http.json(call))
        return self

    def refresh(self) -> "Sandbox":
        """Reloads the fields from the server."""
        return self._sandbox_call(calls.sb(routes.get_sandbox, self.ref))

    def update(self, *, idle_timeout: Optional[int] = None, public: Optional[bool] = None,
               auto_start: Optional[bool] = None, timeout: Optional[int] = None,
               on_timeout: Optional[str] = None, labels: Optional[Mapping[str, str]] = None,
               remove_labels: Optional[Sequence[str]] = None) -> "Sandbox":
        """Changes the idle timeout (seconds, 0 never pauses), public URLs, start on use, the
        hard lifetime (timeout seconds from now, 0 none; on_timeout "destroy" or "pause"), or
        labels (set labels, remove remove_labels)."""
        req = calls.update_request(idle_timeout, public, auto_start, timeout, on_timeout, labels, remove_labels)
        return self._sandbox_call(calls.update(self.ref, req))

    def set_egress(self, policy: EgressArg) -> "Sandbox":
        """Replaces where the sandbox may connect, e.g. {"default": "deny", "allow": ["api.github.com"]}."""
        return self._sandbox_call(calls.egress(self.ref, policy or {}))

    def events(self) -> List[SandboxEvent]:
        """Every recorded state change, oldest first."""
        return [decode(SandboxEvent, e) for e in items(self._http.json(calls.sb(routes.events, self.ref)), "events")]

    def destroy(self) -> "Sandbox":
        """Removes its processes, network, disk and snapshots; the record stays, destroyed."""
        self.close()
        return self._sandbox_call(calls.sb(routes.destroy_sandbox, self.ref))

    def pause(self) -> "Sandbox":
        """Saves memory, processes and disk, and stops it: it holds no CPU or memory."""
        return self._sandbox_call(calls.sb(routes.pause, self.ref))

    def resume(self) -> "Sandbox":
        """Brings it back as it was (any use of it does the same)."""
        return self._sandbox_call(calls.sb(routes.resume, self.ref))

    def stop(self) -> "Sandbox":
        """Ends its processes and keeps its disk."""
        return self._sandbox_call(calls.sb(routes.stop, self.ref))

    def boot(self) -> "Sandbox":
        """Starts a stopped sandbox from its disk: same ID, name and URLs, fresh processes."""
        return self._sandbox_call(calls.sb(routes.start, self.ref))

    # --- snapshots ----------------------------------------------------------------------------

    def snapshot(self, name: Optional[str] = None, *, pin: bool = False) -> Snapshot:
        """Saves memory and disk under a name (default a timestamp); it keeps running. A pinned
        snapshot is kept when the server's snapshot cap removes the oldest."""
        return decode(Snapshot, self._http.json(calls.snapshot(self.ref, name, pin)))

    def snapshots(self) -> List[Snapshot]:
        """Its snapshots, oldest first."""
        data = self._http.json(calls.sb(routes.list_snapshots, self.ref))
        return [decode(Snapshot, s) for s in items(data, "snapshots")]

    def delete_snapshot(self, name: str) -> None:
        """Deletes a snapshot (by name or ID) and frees its disk."""
        self._http.send(calls.sb(routes.delete_snapshot, self.ref, snap=name))

    def rollback(self, snapshot: Optional[str] = None) -> "Sandbox":
        """Returns to a snapshot (default the latest)."""
        return self._sandbox_call(calls.rollback(self.ref, snapshot))

    def fork(self, name: Optional[str] = None, snapshot: Optional[str] = None, keep: bool = False) -> "Sandbox":
        """A new sandbox (new ID, address, token) from a snapshot, or from the current state."""
        data = self._http.json(calls.fork(self.ref, name, snapshot))
        return Sandbox(self._client, decode(SandboxInfo, data), keep=keep)

    def move(self, node: Optional[str] = None) -> "Sandbox":
        """Moves the paused sandbox (or one whose node is lost) to another node of the cluster,
        node or the one placement picks, and resumes it there: its name, URLs and SSH stay, its IP
        changes."""
        return self._sandbox_call(calls.move(self.ref, node))

    def save(self, template: str) -> Template:
        """Saves its files as the next version of the team's custom template of that name."""
        return decode(Template, self._http.json(calls.sb(routes.save_sandbox, self.ref, {"template": template})))

    # --- URLs ---------------------------------------------------------------------------------

    def expose(self, port: int) -> "Sandbox":
        """Serves a port at its dev-server URL (``sandbox.url(port)``)."""
        return self._sandbox_call(calls.sb(routes.expose, self.ref, {"port": port}))

    def unexpose(self, port: int) -> "Sandbox":
        """Stops serving a port at a dev-server URL."""
        return self._sandbox_call(calls.sb(routes.unexpose, self.ref, port=port))

    def signed_link(self, port: int, ttl_seconds: Optional[int] = None) -> Link:
        """A link that opens a private port in a browser until it expires (default one hour)."""
        return decode(Link, self._http.json(calls.link(self.ref, port, ttl_seconds)))

    # --- commands -----------------------------------------------------------------------------

    def exec(self, cmd: Command, *, on_stdout: Optional[OnText] = None, on_stderr: Optional[OnText] = None,
             on_event: Optional[OnEvent] = None, stdin: Union[str, bytes, None] = None,
             env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None, user: Optional[str] = None,
             timeout: Optional[float] = None) -> ExecResult:
        """Runs a command to its end (a string with ``sh -c``, a list as it is), handing output to
        on_stdout/on_stderr as it comes. A failing command is not an error: check exit_code
        (124 after ``timeout`` seconds)."""
        req = exec_request(cmd, env=env, cwd=cwd, user=user, timeout=timeout, stdin=stdin)
        fold = ExecFold(on_stdout, on_stderr, on_event)
        with self._http.stream(calls.exec_stream(self.ref, req)) as resp:
            for line in resp.iter_lines():
                if fold.feed(line):
                    break
        return fold.result(describe(cmd))

    def start(self, cmd: Command, *, env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None,
              user: Optional[str] = None, timeout: Optional[float] = None, stdin_open: bool = False) -> Process:
        """Starts a background process that outlives the call; with stdin_open it takes send_stdin."""
        req = exec_request(cmd, env=env, cwd=cwd, user=user, timeout=timeout)
        data = self._http.json(calls.start_process(self.ref, req, stdin_open))
        return Process(self._http, self.ref, int(data["pid"]))

    def processes(self) -> List[ProcessInfo]:
        """The processes started through the API."""
        data = self._http.json(calls.sb(routes.list_processes, self.ref))
        return [decode(ProcessInfo, p) for p in items(data, "processes")]

    def process(self, pid: int) -> Process:
        """A handle on a background process by pid."""
        return Process(self._http, self.ref, pid)

    @property
    def files(self) -> Files:
        """Its files."""
        return Files(self._http, self.ref)

    @property
    def computer(self) -> Computer:
        """Its screen, mouse and keyboard (desktop sandboxes)."""
        return Computer(self._http, self.ref)

    # --- code interpreter ---------------------------------------------------------------------

    def run_code(self, code: str, *, language: Optional[str] = None, context: Optional[str] = None,
                 timeout: Optional[float] = None, env: Optional[Mapping[str, str]] = None,
                 on_stdout: Optional[OnText] = None, on_stderr: Optional[OnText] = None,
                 on_result: Optional[Callable[[codelib.CodeResult], Any]] = None,
                 on_error: Optional[Callable[[codelib.CodeError], Any]] = None) -> codelib.Execution:
        """Runs a cell in the sandbox's kernel (template ``code``); ``.text`` is its last value's text."""
        fold = codelib.CodeFold(on_stdout, on_stderr, on_result, on_error)
        body = codelib.run_code_request(code, language, context, timeout, env)
        with self._http.stream(calls.code(self.ref, body)) as resp:
            for line in resp.iter_lines():
                if fold.feed(line):
                    break
        return fold.result()

    def create_code_context(self, language: str = "python", cwd: Optional[str] = None) -> codelib.CodeContext:
        """A new kernel with its own state."""
        call = calls.code_context(routes.create_code_context, self.ref, body=encode({"language": language, "cwd": cwd}))
        return decode(codelib.CodeContext, self._http.json(call))

    def code_contexts(self) -> List[codelib.CodeContext]:
        """The sandbox's kernels."""
        return codelib.contexts(self._http.json(calls.code_context(routes.list_code_contexts, self.ref)))

    def delete_code_context(self, id: str) -> None:
        """Ends a kernel."""
        self._http.send(calls.code_context(routes.delete_code_context, self.ref, id))

    def restart_code_context(self, id: str) -> codelib.CodeContext:
        """Restarts a kernel; its state is lost."""
        call = calls.code_context(routes.restart_code_context, self.ref, id)
        return decode(codelib.CodeContext, self._http.json(call))

    # --- live events --------------------------------------------------------------------------

    def on(self, event: str, fn: Callable[[Any], Any]) -> "Sandbox":
        """Calls fn with each "status" (models.Status) or "metrics" (models.Metrics) event, or "error"
        when the watch gives up; in a background thread, until close() or destroy()."""
        if self._watcher is None:
            self._watcher = Watcher(self._http, self.ref)
        self._watcher.on(event, fn)
        return self

    def off(self, event: str, fn: Optional[Callable[[Any], Any]] = None) -> "Sandbox":
        """Removes a listener, or all of an event's."""
        if self._watcher is not None:
            self._watcher.off(event, fn)
        return self

    def watch(self, after: int = 0) -> Watcher:
        """A watch of its own, resuming after a status seq."""
        return Watcher(self._http, self.ref, after)

    def close(self) -> None:
        """Stops the live events."""
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None


def handle(client: "Client", ref: str) -> Sandbox:
    """A sandbox handle without asking the server; its fields are empty until refresh()."""
    return Sandbox(client, handle_info(ref), keep=True)


# The clients the static calls made, by server and key: one connection pool each, shared.
_DEFAULT_CLIENTS: Dict[Config, "Client"] = {}
_DEFAULT_LOCK = threading.Lock()


def _client(client: Optional["Client"], url: Optional[str], api_key: Optional[str]) -> "Client":
    if client is not None:
        return client
    from .client import Client

    cfg = resolve(url, api_key)
    with _DEFAULT_LOCK:
        if cfg not in _DEFAULT_CLIENTS:
            _DEFAULT_CLIENTS[cfg] = Client(url=cfg.url, api_key=cfg.api_key)
        return _DEFAULT_CLIENTS[cfg]
