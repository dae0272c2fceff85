"""Commands, background processes and files on a real server, in one shared sandbox."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import List

import pytest

import runtools
from runtools import Client, Sandbox

from .conftest import unique


def test_exec_and_its_options(sandbox: Sandbox) -> None:
    r = sandbox.exec("ls -la /")
    assert r.exit_code == 0 and "root" in r.stdout
    assert sandbox.exec("exit 3").exit_code == 3
    lines: List[str] = []
    r = sandbox.exec(["sh", "-c", "for i in 1 2 3; do echo $i; done; echo oops >&2"], on_stdout=lines.append)
    assert "".join(lines) == "1\n2\n3\n" and r.stderr == "oops\n"
    assert sandbox.exec("tr a-z A-Z", stdin="hello").stdout == "HELLO"
    r = sandbox.exec("echo $GREETING $(pwd) $(id -un)", env={"GREETING": "hi"}, cwd="/tmp", user="nobody")
    assert r.stdout == "hi /tmp nobody\n"
    r = sandbox.exec("sleep 10", timeout=0.5)
    assert (r.exit_code, r.timed_out) == (124, True)
    assert sandbox.exec(["no-such-program"]).exit_code == 127


def test_files_round_trip(sandbox: Sandbox, tmp_path: Path) -> None:
    files = sandbox.files
    files.write("/root/a.py", "print(6*7)")
    assert sandbox.exec("python3 /root/a.py").stdout == "42\n"
    assert files.read_text("/root/a.py") == "print(6*7)"
    info = files.write("/root/deep/er/x.bin", b"\x00\x01", mode=0o600, mkdirs=True)
    assert (info.size, info.mode & 0o777) == (2, 0o600)
    assert files.stat("/root/deep/er/x.bin").type == "file"
    assert [e.name for e in files.list("/root/deep/er")] == ["x.bin"]
    assert files.exists("/root/deep") and not files.exists("/root/nope")
    files.mkdir("/root/m/n", parents=True)
    files.remove("/root/deep", recursive=True)
    assert not files.exists("/root/deep")
    with pytest.raises(runtools.NotFound):
        files.read("/root/nope")


def test_large_files_stream(sandbox: Sandbox, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(8 << 20))
    with open(big, "rb") as f:
        sandbox.files.write("/root/big.bin", f)
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    assert sandbox.exec("sha256sum /root/big.bin").stdout.split()[0] == want
    h = hashlib.sha256()
    for chunk in sandbox.files.stream("/root/big.bin"):
        h.update(chunk)
    assert h.hexdigest() == want


def test_upload_and_download_trees(sandbox: Sandbox, tmp_path: Path) -> None:
    app = tmp_path / "src" / "app"
    (app / "lib").mkdir(parents=True)
    (app / "main.py").write_text("print('main')")
    (app / "lib" / "data.bin").write_bytes(os.urandom(300_000))
    sandbox.files.upload(str(app), "/root/up")
    assert sandbox.exec("python3 /root/up/app/main.py").stdout == "main\n"
    sandbox.files.download("/root/up/app", str(tmp_path / "down"))
    assert (tmp_path / "down" / "app" / "lib" / "data.bin").read_bytes() == (app / "lib" / "data.bin").read_bytes()
    assert b"".join(sandbox.files.download_tar("/root/up/app/main.py"))[:8] == b"main.py\x00"


def test_background_processes(sandbox: Sandbox) -> None:
    repl = sandbox.start(["python3", "-u", "-i"], stdin_open=True)
    repl.send_stdin("print(6 * 7)\n")
    repl.close_stdin()
    done = repl.wait()
    assert "42" in done.stdout and done.exit_code == 0
    sleeper = sandbox.start("echo started; sleep 600")
    assert any(p.pid == sleeper.pid and p.running for p in sandbox.processes())
    assert sandbox.process(sleeper.pid).output().exit_code == -1, "still running"
    sleeper.kill("KILL")
    assert sleeper.wait().exit_code != 0
    with pytest.raises(runtools.Conflict):
        sleeper.send_stdin("late")


def test_urls_links_egress_and_settings(sandbox: Sandbox) -> None:
    sandbox.expose(4321)
    assert sandbox.url(4321) and "4321-" in (sandbox.url(4321) or "")
    link = sandbox.signed_link(4321, ttl_seconds=60)
    assert link.url and link.expires_at is not None
    sandbox.unexpose(4321)
    assert sandbox.url(4321) is None
    sandbox.set_egress({"default": "deny", "allow": ["example.com"]})
    assert sandbox.egress.default == "deny" and sandbox.egress.allow == ["example.com"]
    sandbox.set_egress({"default": "allow"})
    assert sandbox.update(idle_timeout=0).idle_timeout == 0
    assert sandbox.events()[0].to


def test_errors_and_identity(client: Client) -> None:
    with pytest.raises(runtools.NotFound):
        client.get("no-such-sandbox-" + unique("x"))
    with pytest.raises(runtools.Unauthorized):
        Client(api_key="wrong-key").me()
    assert client.me().admin


def test_ssh_keys(client: Client) -> None:
    name = unique("py-key")
    key = client.add_ssh_key(name, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFpSzJg+1kFfNXBHhiIgvcRUElZljEh5evLTsZUX2B+8 py-test")
    assert key.fingerprint and any(k.name == name for k in client.ssh_keys())
    client.remove_ssh_key(name)
    assert all(k.name != name for k in client.ssh_keys())


def test_teams_and_keys(client: Client) -> None:
    team = client.create_team(unique("py-team"))
    assert any(t.id == team.id for t in client.teams())
    key = client.create_key(unique("py-ci"), team=team.name)
    assert key.secret and key.team in (team.id, team.name)
    other = Client(api_key=key.secret)
    assert other.me().team in (team.id, team.name) and not other.me().admin
    with pytest.raises(runtools.NotFound):
        other.get(unique("nope"))
    client.delete_key(key.id)
    with pytest.raises(runtools.Unauthorized):
        other.me()
