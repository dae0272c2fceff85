"""Templates on a real server: the built-in ones, a custom template built
from a Dockerfile, a sandbox saved as a template; the code interpreter
and computer use where their templates are built."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List

import pytest

import runtools
from runtools import Client, Sandbox

from .conftest import eventually, template_ready, unique


def test_builtin_templates(client: Client) -> None:
    names = [t.name for t in client.templates()]
    assert "base" in names
    base = client.template("base")
    assert base.status == "ready" and base.packages
    with pytest.raises(runtools.NotFound):
        client.template("no-such-template")


def test_custom_template_from_a_dockerfile(client: Client, tmp_path: Path) -> None:
    name = unique("py-tpl")
    (tmp_path / "hello.txt").write_text("from the context\n")
    (tmp_path / "Dockerfile").write_text("FROM base\nCOPY hello.txt /opt/hello.txt\nENV GREETING=hi\nWORKDIR /opt\n")
    steps: List[runtools.TemplateProgress] = []
    tpl = client.build_template(name, context=str(tmp_path), progress=steps.append)
    try:
        assert tpl.custom and tpl.version == 1 and steps and tpl.config is not None
        with Sandbox.create(template=name, client=client) as sb:
            r = sb.exec("cat hello.txt; echo $GREETING")
            assert r.stdout == "from the context\nhi\n"
            sb.files.write("/opt/extra.txt", "saved")
            saved = sb.save(name)
            assert saved.version == 2
        assert [t.version for t in client.template_history(name)] == [2, 1]
        assert client.set_template_public(name, True).public
        assert not client.set_template_public(name, False).public
    finally:
        client.remove_template(name)
    with pytest.raises(runtools.NotFound):
        client.template(name)


def test_a_bad_dockerfile_is_an_invalid_argument(client: Client, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM base\nRUN exit 7\n")
    with pytest.raises(runtools.InvalidArgument):
        client.build_template(unique("py-bad"), context=str(tmp_path))


def test_run_code(client: Client) -> None:
    if not template_ready(client, "code"):
        pytest.skip("the template code does not exist on this server (the code interpreter lands on main later)")
    with Sandbox.create(template="code", client=client) as sb:
        ex = sb.run_code("6*7")
        assert ex.text == "42"
        ex = sb.run_code("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
        assert any(r.png for r in ex.results)
        assert sb.run_code("1/0").error is not None


def test_computer_use(client: Client) -> None:
    if os.environ.get("RUNTOOLS_SDK_SKIP_DESKTOP") == "1" or not template_ready(client, "desktop"):
        pytest.skip("the desktop template is not built (or RUNTOOLS_SDK_SKIP_DESKTOP=1)")
    with Sandbox.create(template="desktop", client=client) as sb:
        assert sb.desktop
        ready: List[bool] = []
        sb.on("status", lambda s: ready.append(s.vnc_ready))
        # As long as the daemon's own probe waits: a loaded machine starts a desktop slowly.
        eventually("vnc_ready", lambda: any(ready), 180)
        sb.close()
        pc = sb.computer
        assert pc.screenshot()[:8] == b"\x89PNG\r\n\x1a\n"
        size = pc.screen_size()
        assert size.width > 0 and size.height > 0
        assert pc.move(10, 20).cursor == runtools.Point(10, 20)
        assert pc.cursor() == runtools.Point(10, 20)
        assert isinstance(pc.windows(), list)
