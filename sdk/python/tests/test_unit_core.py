"""Unit tests without a server: errors, configuration, retries, decoding."""

from __future__ import annotations

import base64
from datetime import timezone

import httpx
import pytest

import runtools
from runtools import Client, Sandbox
from runtools._wire import parse_time
from runtools.errors import error_from_answer

from .mock import SANDBOX, FakeServer


def test_errors_map_from_codes_and_statuses() -> None:
    e = error_from_answer(404, b'{"error":{"code":"not_found","message":"no sandbox x"}}')
    assert isinstance(e, runtools.NotFound) and isinstance(e, runtools.RuntoolsError)
    assert (e.status, e.code, str(e)) == (404, "not_found", "no sandbox x")
    assert isinstance(error_from_answer(409, b'{"error":{"code":"already_exists"}}'), runtools.Conflict)
    assert isinstance(error_from_answer(401, b"nope"), runtools.Unauthorized)
    assert isinstance(error_from_answer(403, b""), runtools.Forbidden)
    assert isinstance(error_from_answer(429, b'{"error":{"code":"resource_exhausted"}}'), runtools.RateLimited)
    assert isinstance(error_from_answer(502, b"bad gateway"), runtools.Unavailable)
    assert isinstance(error_from_answer(400, b'{"error":{"code":"invalid_argument"}}'), runtools.InvalidArgument)
    odd = error_from_answer(418, b'{"error":{"code":"teapot","message":"short"}}')
    assert type(odd) is runtools.RuntoolsError and odd.code == "teapot"


def test_config_from_environment_and_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTOOLS_URL", "http://env:1/")
    monkeypatch.setenv("RUNTOOLS_API_KEY", "env-key")
    assert Client().url == "http://env:1"
    assert Client(url="http://arg:2").url == "http://arg:2"
    monkeypatch.delenv("RUNTOOLS_API_KEY")
    with pytest.raises(runtools.Unauthorized, match="RUNTOOLS_API_KEY"):
        Client()
    with pytest.raises(runtools.InvalidArgument, match="http://host:port"):
        Client(url="ftp://x", api_key="k")
    assert "env-key" not in repr(Client(api_key="env-key"))


def test_times_with_nanoseconds() -> None:
    t = parse_time("2026-12-08T00:27:18.123456789Z")
    assert (t.microsecond, t.tzinfo) == (123456, timezone.utc)
    assert parse_time("2026-12-08T01:00:00+01:00").utcoffset() is not None


def _flaky(fail: int, server: FakeServer) -> FakeServer:
    left = [fail]
    inner = server.__call__

    class Flaky(FakeServer):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if left[0] > 0:
                left[0] -= 1
                raise httpx.ConnectError("connection refused", request=request)
            return inner(request)

    f = Flaky()
    f.routes, f.requests = server.routes, server.requests
    return f


def test_idempotent_calls_retry_after_connection_loss() -> None:
    srv = FakeServer()
    srv.json("GET", "/v1/sandboxes/t", SANDBOX)
    sb = _flaky(2, srv).client().get("t")
    assert sb.id == "sandbox-abc" and sb.created_at is not None


def test_non_idempotent_calls_do_not_retry() -> None:
    srv = FakeServer()
    srv.json("POST", "/v1/sandboxes/t/pause", SANDBOX)
    flaky = _flaky(1, srv)
    with pytest.raises(runtools.Unavailable, match="cannot reach the runtools server at http://fake"):
        flaky.client().sandbox("t").pause()
    assert srv.requests == []


def test_error_answers_raise_their_class() -> None:
    srv = FakeServer()
    with pytest.raises(runtools.NotFound, match="no route"):
        srv.client().get("nope")
    assert srv.requests[0].headers["authorization"] == "Bearer key"


def test_create_sends_only_what_is_given_and_context_destroys() -> None:
    srv = FakeServer()
    srv.json("POST", "/v1/sandboxes", SANDBOX, 201)
    srv.json("DELETE", "/v1/sandboxes/sandbox-abc", {**SANDBOX, "state": "destroyed"})
    with Sandbox.create(template="base", client=srv.client(), memory_mb=512, egress={"default": "deny"}) as sb:
        assert sb.url(8000) == "http://8000-sandbox-abc.sandboxes.localhost"
    assert srv.body(0) == {"template": "base", "memory_mb": 512, "egress": {"default": "deny"}}
    assert sb.state == "destroyed"
    with Sandbox.create(client=srv.client(), keep=True):
        pass
    assert srv.requests[-1].method == "POST"


def test_labels_and_lifetimes_go_on_the_wire() -> None:
    srv = FakeServer()
    labelled = {**SANDBOX, "labels": {"app": "web"}, "timeout_at": "2026-03-01T12:25:00Z", "on_timeout": "pause"}
    srv.json("POST", "/v1/sandboxes", labelled, 201)
    srv.json("GET", "/v1/sandboxes", {"sandboxes": [labelled]})
    srv.json("PATCH", "/v1/sandboxes/sandbox-abc", labelled)
    srv.json("POST", "/v1/sandboxes/sandbox-abc/snapshots", {"id": "snap-1", "name": "golden", "pinned": True}, 201)
    c = srv.client()
    sb = c.create(labels={"app": "web"}, timeout=300, on_timeout="pause", keep=True)
    assert srv.body() == {"labels": {"app": "web"}, "timeout": 300, "on_timeout": "pause"}
    assert sb.labels == {"app": "web"} and sb.on_timeout == "pause" and sb.timeout_at is not None
    assert [s.id for s in Sandbox.list(labels={"app": "web", "env": "prod"}, client=c)] == ["sandbox-abc"]
    assert srv.requests[-1].url.params.get_list("label") == ["app=web", "env=prod"]
    sb.update(timeout=600, labels={"env": "prod"}, remove_labels=["app"])
    assert srv.body() == {"timeout": 600, "labels": {"env": "prod"}, "remove_labels": ["app"]}
    assert sb.snapshot("golden", pin=True).pinned
    assert srv.body() == {"name": "golden", "pin": True}


def _event(kind: str, data: bytes = b"", **kw: object) -> dict:
    ev: dict = {"type": kind, **kw}
    if data:
        ev["data"] = base64.b64encode(data).decode()
    return ev


def test_exec_streams_output_whole_characters() -> None:
    srv = FakeServer()
    snow = "☃".encode()
    srv.ndjson("POST", "/v1/sandboxes/t/exec", [
        _event("start", pid=7), _event("stdout", b"a" + snow[:1]), _event("stdout", snow[1:] + b"\n"),
        _event("stderr", b"warn"), _event("exit", exit_code=3)])
    got: list = []
    r = srv.client().sandbox("t").exec(["x"], on_stdout=got.append, stdin="in", env={"A": "1"}, cwd="/tmp",
                                       user="nobody", timeout=1.5)
    assert (r.stdout, r.stderr, r.exit_code) == ("a☃\n", "warn", 3)
    assert got == ["a", "☃\n"]
    body = srv.body()
    assert body == {"cmd": ["x"], "env": {"A": "1"}, "cwd": "/tmp", "user": "nobody", "timeout_ms": 1500,
                    "stdin": base64.b64encode(b"in").decode()}
    assert srv.requests[-1].headers["accept"] == "application/x-ndjson"


def test_exec_stream_cut_short_is_an_error() -> None:
    srv = FakeServer()
    srv.ndjson("POST", "/v1/sandboxes/t/exec", [_event("error", message="sandbox stopped", code="conflict")])
    with pytest.raises(runtools.Conflict, match="sandbox stopped"):
        srv.client().sandbox("t").exec("true")
    srv.ndjson("POST", "/v1/sandboxes/t/exec", [_event("stdout", b"x")])
    with pytest.raises(runtools.Unavailable, match="ended before the command did"):
        srv.client().sandbox("t").exec("true")


def test_build_failure_raises_its_kind() -> None:
    srv = FakeServer()
    srv.ndjson("POST", "/v1/templates/app/build", [{"step": "RUN false"}, {"error": "RUN failed", "code": "invalid_argument"}])
    with pytest.raises(runtools.InvalidArgument, match="RUN failed"):
        srv.client().build_template("app", image="python:3.12-slim")
    assert srv.requests[-1].url.params["image"] == "python:3.12-slim"


def test_async_idempotent_calls_retry_too() -> None:
    import asyncio

    srv = FakeServer()
    srv.json("GET", "/v1/sandboxes/t", SANDBOX)
    flaky = _flaky(2, srv)

    async def main() -> str:
        async with flaky.async_client() as client:
            return (await client.get("t")).id

    assert asyncio.run(main()) == "sandbox-abc"
    srv.json("POST", "/v1/sandboxes/t/resume", SANDBOX)

    async def post() -> None:
        async with _flaky(1, srv).async_client() as client:
            await client.sandbox("t").resume()

    with pytest.raises(runtools.Unavailable):
        asyncio.run(post())
