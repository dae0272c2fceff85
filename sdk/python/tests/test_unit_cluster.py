"""The cluster calls on a fake server: nodes, cordon and uncordon, a drain's stream
(each sandbox's outcome to the callback, the summary returned) and moves, sync and async."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

import runtools

from .mock import SANDBOX, FakeServer

NODE = {"name": "n2", "state": "cordoned", "self": True, "api_url": "http://10.0.0.12:7070", "sandboxes": 3,
        "slots": 100, "templates": ["base"], "lease_until": "2026-12-08T00:27:18Z"}
MOVED = {"sandbox": "sandbox-abc", "name": "t", "from": "n2", "to": "n1", "ip": "10.11.0.5", "away_ms": 850}
FAILED = {"sandbox": "sandbox-def", "name": "u", "from": "n2", "error": "no node holds its template"}
SUMMARY = {"done": True, "node": "n2", "moved": 1, "failed": 1}


def cluster_server() -> FakeServer:
    srv = FakeServer()
    srv.json("GET", "/v1/nodes", {"nodes": [NODE]})
    srv.json("PATCH", "/v1/nodes/n2", NODE)
    srv.ndjson("POST", "/v1/nodes/n2/drain", [MOVED, FAILED, SUMMARY])
    srv.ndjson("POST", "/v1/nodes/n3/drain", [MOVED])
    srv.json("POST", "/v1/sandboxes/sandbox-abc/move", {**SANDBOX, "node": "n1", "ip": "10.11.0.5"})
    return srv


def test_nodes_cordon_drain_and_move() -> None:
    srv = cluster_server()
    client = srv.client()
    [n] = client.nodes()
    assert (n.name, n.state, n.self, n.api_url, n.slots, n.templates) == ("n2", "cordoned", True, "http://10.0.0.12:7070",
                                                                        100, ["base"])
    assert n.lease_until is not None and n.lost_at is None
    client.cordon("n2")
    assert srv.body() == {"state": "cordoned"}
    client.uncordon("n2")
    assert srv.body() == {"state": "ready"}
    seen: List[runtools.DrainEvent] = []
    summary = client.drain("n2", seen.append)
    assert [(e.name, e.from_, e.to, e.away_ms, e.error) for e in seen] == [
        ("t", "n2", "n1", 850, None), ("u", "n2", None, None, "no node holds its template")]
    assert (summary.done, summary.node, summary.moved, summary.failed) == (True, "n2", 1, 1)
    assert srv.requests[-1].content == b""
    with pytest.raises(runtools.Unavailable, match="without a summary"):
        client.drain("n3")
    sb = client.move("sandbox-abc", "n1")
    assert srv.body() == {"node": "n1"} and sb.node == "n1" and sb.ip == "10.11.0.5"
    client.sandbox("sandbox-abc").move()
    assert srv.body() == {}


def test_async_nodes_drain_and_move() -> None:
    srv = cluster_server()

    async def main() -> None:
        client = srv.async_client()
        assert [n.name for n in await client.nodes()] == ["n2"]
        assert (await client.cordon("n2")).state == "cordoned"
        seen: List[runtools.DrainEvent] = []
        summary = await client.drain("n2", seen.append)
        assert [e.to for e in seen] == ["n1", None] and summary.moved == 1
        sb = await client.sandbox("sandbox-abc").move("n1")
        assert sb.node == "n1"
        assert (await client.move("sandbox-abc")).node == "n1"

    asyncio.run(main())
    assert srv.body(1) == {"state": "cordoned"}
    assert srv.body(3) == {"node": "n1"}
    assert srv.body() == {}
