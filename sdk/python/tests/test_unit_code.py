"""The code interpreter client (/tmp/spec/code-wire.md) on a fake server, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any, List

import httpx
import pytest

import runtools

from .mock import FakeServer

CELL = [
    {"type": "stdout", "text": "hi\n"},
    {"type": "result", "result": {"is_main": False, "png": "iVBORw0KGgo=", "text": "<Figure>"}},
    {"type": "notice", "text": "the kernel had died and was restarted: its state is lost"},
    {"type": "stderr", "text": "careful\n"},
    {"type": "result", "result": {"is_main": True, "text": "42", "html": "<b>42</b>", "json": {"a": [1]}}},
    {"type": "end", "execution_count": 3, "timed_out": False},
]


def fake() -> FakeServer:
    srv = FakeServer()
    srv.ndjson("POST", "/v1/sandboxes/c/code", CELL)
    srv.json("POST", "/v1/sandboxes/c/code/contexts", {"id": "ctx1", "language": "python", "cwd": "/root"}, 201)
    srv.json("GET", "/v1/sandboxes/c/code/contexts", {"contexts": [{"id": "ctx1", "language": "python", "cwd": "/root"}]})
    srv.on("DELETE", "/v1/sandboxes/c/code/contexts/ctx1", lambda r: httpx.Response(204))
    srv.json("POST", "/v1/sandboxes/c/code/contexts/ctx1/restart", {"id": "ctx1", "language": "python", "cwd": "/root"})
    return srv


def check_execution(ex: runtools.Execution) -> None:
    assert ex.text == "42"
    assert (ex.stdout, ex.stderr, ex.execution_count, ex.timed_out) == ("hi\n", "careful\n", 3, False)
    assert ex.results[0].png == "iVBORw0KGgo=" and ex.results[0].formats() == ["text", "png"]
    assert ex.results[1].html == "<b>42</b>" and ex.results[1].json == {"a": [1]}
    assert ex.notices == ["the kernel had died and was restarted: its state is lost"] and ex.error is None


def test_run_code_streams_and_folds_events() -> None:
    srv = fake()
    out: List[str] = []
    results: List[Any] = []
    ex = srv.client().sandbox("c").run_code("6*7", language="python", context="ctx1", timeout=2, env={"A": "b"},
                                            on_stdout=out.append, on_result=results.append)
    check_execution(ex)
    assert out == ["hi\n"] and len(results) == 2
    assert srv.body() == {"code": "6*7", "language": "python", "context": "ctx1", "timeout_ms": 2000, "env": {"A": "b"}}
    assert srv.requests[-1].headers["accept"] == "application/x-ndjson"


def test_run_code_error_and_cut_stream() -> None:
    srv = FakeServer()
    srv.ndjson("POST", "/v1/sandboxes/c/code", [
        {"type": "error", "error": {"name": "ZeroDivisionError", "value": "division by zero", "traceback": "..."}},
        {"type": "end", "execution_count": 1}])
    ex = srv.client().sandbox("c").run_code("1/0")
    assert ex.error is not None and ex.error.name == "ZeroDivisionError" and ex.text is None
    srv.ndjson("POST", "/v1/sandboxes/c/code", [{"type": "stdout", "text": "x"}])
    with pytest.raises(runtools.Unavailable, match="ended before the cell did"):
        srv.client().sandbox("c").run_code("x")
    srv.json("POST", "/v1/sandboxes/c/code", {"error": {"code": "conflict", "message": "use --template code"}}, 409)
    with pytest.raises(runtools.Conflict, match="template code"):
        srv.client().sandbox("c").run_code("x")


def test_code_contexts() -> None:
    srv = fake()
    sb = srv.client().sandbox("c")
    ctx = sb.create_code_context("python", cwd="/root")
    assert (ctx.id, ctx.cwd) == ("ctx1", "/root") and srv.body() == {"language": "python", "cwd": "/root"}
    assert [c.id for c in sb.code_contexts()] == ["ctx1"]
    assert sb.restart_code_context("ctx1").id == "ctx1"
    sb.delete_code_context("ctx1")
    assert srv.requests[-1].method == "DELETE"


def test_async_run_code_and_contexts() -> None:
    async def main() -> None:
        srv = fake()
        async with srv.async_client() as client:
            sb = client.sandbox("c")
            check_execution(await sb.run_code("6*7"))
            assert (await sb.create_code_context()).id == "ctx1"
            assert [c.id for c in await sb.code_contexts()] == ["ctx1"]
            await sb.delete_code_context("ctx1")

    asyncio.run(main())
