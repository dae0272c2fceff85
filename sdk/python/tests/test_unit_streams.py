"""Watch streams, tar streams and files on a fake server."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
import threading
from pathlib import Path
from typing import Any, List

import httpx

import runtools
from runtools._tar import IterReader, context_stream, extract, tar_stream

from .mock import SANDBOX, FakeServer


def sse(*events: str) -> bytes:
    return "".join(events).encode()


STATUS1 = 'event: status\nid: 1\ndata: {"type":"status","seq":1,"status":{"state":"running","ssh_ready":true}}\n\n'
METRICS = 'event: metrics\ndata: {"type":"metrics","metrics":{"cpu_percent":12.5,"mem_bytes":100}}\n\n'
STATUS2 = ': heartbeat\n\nevent: status\nid: 2\ndata: {"type":"status","seq":2,"status":{"state":"paused"}}\n\n'


def watch_server(go: "threading.Event | None" = None) -> FakeServer:
    srv = FakeServer()
    answers = [sse(STATUS1, METRICS), sse(STATUS2)]

    def watch(r: httpx.Request) -> httpx.Response:
        if go is not None:
            go.wait(5)  # until the test has added its listeners
        return httpx.Response(200, content=answers.pop(0) if answers else b"")

    srv.on("GET", "/v1/sandboxes/w/watch", watch)
    return srv


def test_watch_delivers_and_resumes_after_the_last_seq() -> None:
    go = threading.Event()
    srv = watch_server(go)
    sb = srv.client().sandbox("w")
    states: List[Any] = []
    metrics: List[Any] = []
    done = threading.Event()

    def on_status(s: runtools.Status) -> None:
        states.append((s.status, s.ssh_ready, s.seq))
        if s.state == "paused":
            done.set()

    sb.on("status", on_status).on("metrics", metrics.append)
    go.set()
    assert done.wait(10)
    sb.close()
    assert states == [("running", True, 1), ("paused", False, 2)]
    assert metrics[0].cpu_percent == 12.5
    first, second = srv.requests[0].url.params, srv.requests[1].url.params
    assert "after" not in first and second["after"] == "1"
    assert "metrics" not in first, "a sandbox's stream carries metrics (the server's default)"


def test_async_watch() -> None:
    async def main() -> List[str]:
        srv = watch_server()
        got: List[str] = []
        done = asyncio.Event()

        async def on_status(s: runtools.Status) -> None:
            got.append(s.state)
            if s.state == "paused":
                done.set()

        sb = srv.async_client().sandbox("w")
        sb.on("status", on_status)
        await asyncio.wait_for(done.wait(), 10)
        sb.close()
        return got

    assert asyncio.run(main()) == ["running", "paused"]


def make_tree(root: Path) -> Path:
    app = root / "app"
    (app / "sub").mkdir(parents=True)
    (app / "a.txt").write_text("alpha")
    (app / "sub" / "big.bin").write_bytes(os.urandom(200_000))
    os.symlink("a.txt", app / "link")
    return app


def test_tar_stream_round_trip(tmp_path: Path) -> None:
    app = make_tree(tmp_path / "src")
    extract(IterReader(tar_stream(str(app))), str(tmp_path / "out"))
    out = tmp_path / "out" / "app"
    assert (out / "a.txt").read_text() == "alpha"
    assert (out / "sub" / "big.bin").read_bytes() == (app / "sub" / "big.bin").read_bytes()
    assert os.readlink(out / "link") == "a.txt"


def test_context_stream_leaves_out_dockerignored(tmp_path: Path) -> None:
    app = make_tree(tmp_path)
    (app / ".dockerignore").write_text("sub\n# comment\n")
    (app / "Dockerfile").write_text("FROM base\n")
    names = tarfile.open(fileobj=io.BytesIO(b"".join(context_stream(str(app))))).getnames()
    assert sorted(names) == [".dockerignore", "Dockerfile", "a.txt", "link"]


def test_extract_refuses_escapes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../evil")
        tar.addfile(info, io.BytesIO(b""))
    buf.seek(0)
    try:
        extract(buf, str(tmp_path / "x"))
        raise AssertionError("extracted an entry outside the directory")
    except ValueError as e:
        assert "outside" in str(e)


def test_files_calls(tmp_path: Path) -> None:
    srv = FakeServer()
    info = {"name": "a", "path": "/root/a", "type": "file", "size": 3, "mode": 420}
    srv.json("PUT", "/v1/sandboxes/f/files", info)
    srv.on("GET", "/v1/sandboxes/f/files", lambda r: httpx.Response(200, content=b"abc"))
    srv.json("GET", "/v1/sandboxes/f/files/list", {"entries": [info]})
    srv.on("PUT", "/v1/sandboxes/f/files/archive", lambda r: httpx.Response(204))
    files = srv.client().sandbox("f").files
    assert files.write("/root/a", io.BytesIO(b"abc"), mode=0o600, mkdirs=True).size == 3
    q = srv.requests[-1].url.params
    assert (q["path"], q["mode"], q["mkdirs"], srv.requests[-1].content) == ("/root/a", "0600", "true", b"abc")
    assert files.read_text("/root/a") == "abc" and b"".join(files.stream("/root/a")) == b"abc"
    assert files.list("/root")[0].name == "a"
    files.upload(str(make_tree(tmp_path)), "/root")
    names = tarfile.open(fileobj=io.BytesIO(srv.requests[-1].content)).getnames()
    assert "app/sub/big.bin" in names and srv.requests[-1].headers["content-type"] == "application/x-tar"


def test_async_upload_streams(tmp_path: Path) -> None:
    srv = FakeServer()
    srv.on("PUT", "/v1/sandboxes/f/files/archive", lambda r: httpx.Response(204))
    srv.json("GET", "/v1/sandboxes/f", SANDBOX)

    async def main() -> None:
        client = srv.async_client()
        await client.sandbox("f").files.upload(str(make_tree(tmp_path)), "/root")
        assert (await client.get("f")).id == "sandbox-abc"

    asyncio.run(main())
    assert "app/a.txt" in tarfile.open(fileobj=io.BytesIO(srv.requests[0].content)).getnames()
