"""The life of sandboxes on a real server: live events, pause and resume,
snapshots, rollback and fork, stop and boot, and the async API."""

from __future__ import annotations

import asyncio
import time
from typing import List

import pytest

import runtools
from runtools import AsyncSandbox, Client, Sandbox

from .conftest import eventually, unique


def test_watch_pause_resume_snapshot_rollback_fork(client: Client) -> None:
    with Sandbox.create(template="base", name=unique("py-life"), client=client) as sb:
        statuses: List[runtools.Status] = []
        metrics: List[runtools.Metrics] = []
        sb.on("status", statuses.append)
        eventually("the current state first", lambda: statuses)
        assert (statuses[0].status, statuses[0].ssh_ready, statuses[0].sandbox_id) == ("running", True, sb.id)
        sb.on("metrics", metrics.append)
        sb.exec("head -c 20000000 /dev/urandom | sha256sum")
        eventually("a metrics event", lambda: metrics, 15)
        assert metrics[0].mem_limit_bytes > 0 and metrics[0].at is not None

        sb.exec("echo kept > /dev/shm/marker")
        assert sb.pause().state == "paused"
        assert sb.resume().state == "running"
        assert sb.exec("cat /dev/shm/marker").stdout == "kept\n"
        eventually("paused then running", lambda: "pausing paused resuming running" in
                   " ".join(s.status for s in statuses))
        seqs = [s.seq for s in statuses[1:]]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        sb.off("status")
        sb.off("metrics")

        sb.files.write("/root/state.txt", "before")
        snap = sb.snapshot("before")
        assert snap.name == "before" and [s.name for s in sb.snapshots()] == ["before"]
        sb.files.write("/root/state.txt", "after")
        sb.rollback("before")
        assert sb.files.read_text("/root/state.txt") == "before"
        with sb.fork(name=unique("py-fork")) as child:
            assert child.id != sb.id and child.files.read_text("/root/state.txt") == "before"
        sb.delete_snapshot("before")
        assert sb.snapshots() == []


def test_find_stop_boot_and_destroy(client: Client) -> None:
    name = unique("py-boot")
    team: List[runtools.Status] = []
    watch = client.watch().on("status", team.append)
    sb = client.create(name=name, idle_timeout=0, metadata={"suite": "python"})
    eventually("the team's stream to show it", lambda: any(s.sandbox_id == sb.id for s in team))
    watch.close()
    try:
        with pytest.raises(runtools.AlreadyExists):
            client.create(name=name)
        assert Sandbox.get(name, client=client).id == sb.id
        assert any(s.id == sb.id for s in Sandbox.list(client=client))
        sb.files.write("/root/durable.txt", "on disk")
        sb.exec("sync")
        assert sb.stop().state == "stopped"
        assert Sandbox.connect(name, client=client).state == "running"
        assert sb.refresh().state == "running"
        assert sb.files.read_text("/root/durable.txt") == "on disk"
        sb.stop()
        assert sb.boot().state == "running"
    finally:
        sb.destroy()
    assert sb.state == "destroyed"
    assert any(s.id == sb.id for s in client.list(all=True))


def test_async_api(sandbox: Sandbox) -> None:
    async def main() -> None:
        sb = await AsyncSandbox.get(sandbox.id)
        out: List[str] = []
        r = await sb.exec("echo async; echo err >&2", on_stdout=out.append)
        assert (r.stdout, r.stderr, out) == ("async\n", "err\n", ["async\n"])
        await sb.files.write("/root/async.txt", "x" * 100_000)
        assert len(await sb.files.read("/root/async.txt")) == 100_000
        proc = await sb.start("echo bg")
        assert (await proc.wait()).stdout == "bg\n"
        states: List[str] = []
        sb.on("status", lambda s: states.append(s.status))
        deadline = time.monotonic() + 20
        while not states and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        sb.close()
        assert states[:1] == ["running"]
        with pytest.raises(runtools.NotFound):
            await AsyncSandbox.get("no-such-" + unique("x"))

    asyncio.run(main())


def test_async_create_in_async_with(client: Client) -> None:
    async def main() -> str:
        async with AsyncSandbox.create(name=unique("py-async")) as sb:
            assert (await sb.exec("echo $((6*7))")).stdout == "42\n"
            return sb.id

    sid = asyncio.run(main())
    assert client.get(sid).state == "destroyed"
