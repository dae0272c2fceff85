"""The async API mirrors the sync one: the same public calls with the same
parameters, and the ones that talk to the server are coroutines."""

from __future__ import annotations

import asyncio
import base64
import inspect
from typing import List

import httpx
import pytest

from runtools import AsyncClient, AsyncSandbox, Client, Sandbox
from runtools.async_computer import AsyncComputer
from runtools.async_files import AsyncFiles, AsyncVolumeFiles
from runtools.async_process import AsyncProcess
from runtools.async_watch import AsyncWatcher
from runtools.computer import Computer
from runtools.files import Files, VolumeFiles
from runtools.process import Process
from runtools.watch import Watcher

from .mock import SANDBOX, FakeServer

PAIRS = [(Sandbox, AsyncSandbox), (Client, AsyncClient), (Files, AsyncFiles), (VolumeFiles, AsyncVolumeFiles), (Process, AsyncProcess),
         (Computer, AsyncComputer), (Watcher, AsyncWatcher)]
# Sync names whose async twin is named otherwise.
RENAMED = {"close": "close", "__enter__": "__aenter__", "__exit__": "__aexit__"}


def public(cls: type) -> List[str]:
    return sorted(n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n)))


@pytest.mark.parametrize("sync,asyn", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_same_calls_and_parameters(sync: type, asyn: type) -> None:
    missing = [n for n in public(sync) if not hasattr(asyn, n) and n not in ("close", "join")]
    assert missing == []
    for name in public(sync):
        if not hasattr(asyn, name):
            continue
        s, a = inspect.signature(getattr(sync, name)), inspect.signature(getattr(asyn, name))
        assert list(s.parameters) == list(a.parameters), name
        talks = inspect.iscoroutinefunction(getattr(asyn, name)) or inspect.isasyncgenfunction(getattr(asyn, name))
        if name not in ("on", "off", "watch", "sandbox", "process", "url", "info", "close", "create", "closed", "volume_files"):
            assert talks, f"{asyn.__name__}.{name} should be async"


def test_async_create_exec_and_destroy() -> None:
    srv = FakeServer()
    srv.json("POST", "/v1/sandboxes", SANDBOX, 201)
    srv.json("DELETE", "/v1/sandboxes/sandbox-abc", {**SANDBOX, "state": "destroyed"})
    srv.ndjson("POST", "/v1/sandboxes/sandbox-abc/exec", [
        {"type": "stdout", "data": base64.b64encode(b"hi\n").decode()}, {"type": "exit", "exit_code": 0}])
    srv.json("POST", "/v1/sandboxes/sandbox-abc/processes", {"pid": 9}, 201)
    srv.on("POST", "/v1/sandboxes/sandbox-abc/processes/9/signal", lambda r: httpx.Response(204))

    async def main() -> None:
        client = srv.async_client()
        async with AsyncSandbox.create(template="base", client=client, vcpus=1) as sb:
            got: List[str] = []
            r = await sb.exec("echo hi", on_stdout=got.append)
            assert (r.stdout, r.exit_code, got) == ("hi\n", 0, ["hi\n"])
            proc = await sb.start("sleep 9")
            await proc.kill("KILL")
        assert sb.state == "destroyed"
        sb2 = await AsyncSandbox.create(client=client, keep=True)
        assert sb2.keep and sb2.id == "sandbox-abc"

    asyncio.run(main())
    assert srv.body(0) == {"template": "base", "vcpus": 1}
    assert srv.body(2) == {"cmd": ["sh", "-c", "sleep 9"], "background": True}
