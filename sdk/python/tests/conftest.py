"""Shared by the tests that talk to a real server (RUNTOOLS_URL, RUNTOOLS_API_KEY):
a client, one sandbox the whole session reuses, and names no other run uses.

Without a server those tests skip, unless RUNTOOLS_SDK_REQUIRE_SERVER=1
(as integration/python_sdk_test.go sets it), which makes them fail.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Iterator, TypeVar

import httpx
import pytest

from runtools import Client, NotFound, Sandbox, _http

T = TypeVar("T")

NO_SERVER = "" if os.environ.get("RUNTOOLS_URL") and os.environ.get("RUNTOOLS_API_KEY") else \
    "set RUNTOOLS_URL and RUNTOOLS_API_KEY to run the tests against a real server"
REQUIRE_SERVER = os.environ.get("RUNTOOLS_SDK_REQUIRE_SERVER") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server: needs a real server (RUNTOOLS_URL, RUNTOOLS_API_KEY)")


def pytest_collection_modifyitems(config: pytest.Config, items: "list[pytest.Item]") -> None:
    for item in items:
        if "server" in item.fixturenames or "client" in item.fixturenames or "sandbox" in item.fixturenames:
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def server() -> None:
    if NO_SERVER:
        if REQUIRE_SERVER:
            pytest.fail(NO_SERVER)
        pytest.skip(NO_SERVER)


# Every JSON answer the server gave in this session: (method, path template, status, body).
ANSWERS: "list[tuple[str, str, int, Any]]" = []


@pytest.fixture(scope="session", autouse=True)
def record_answers() -> Iterator[None]:
    """Records every JSON answer, so test_zz_answers.py can check each against api/openapi.yaml."""
    original = _http.decode_json

    def recording(resp: httpx.Response, call: _http.Call) -> Any:
        data = original(resp, call)
        ANSWERS.append((call.route.method, call.route.path, resp.status_code, data))
        return data

    _http.decode_json = recording  # type: ignore[assignment]
    yield
    _http.decode_json = original  # type: ignore[assignment]


@pytest.fixture(scope="session")
def client(server: None) -> Iterator[Client]:
    with Client() as c:
        yield c


@pytest.fixture(scope="session")
def sandbox(client: Client) -> Iterator[Sandbox]:
    """One base sandbox for the tests that do not change its life."""
    with client.create(template="base", name=unique("py-shared")) as sb:
        yield sb


_seq = [0]


def unique(prefix: str) -> str:
    """A name no other test run uses."""
    _seq[0] += 1
    return f"{prefix}-{os.getpid()}-{_seq[0]}-{int(time.time() * 1000) % 10**8}"


def eventually(what: str, ok: Callable[[], T], seconds: float = 30) -> T:
    """ok()'s value once it is truthy, polling; fails after seconds."""
    deadline = time.monotonic() + seconds
    while True:
        v = ok()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def template_ready(client: Client, name: str) -> bool:
    """Whether a template exists and is built."""
    try:
        return client.template(name).status == "ready"
    except NotFound:
        return False
