"""A fake server for the unit tests: httpx.MockTransport with routes by method and path."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Tuple

import httpx

from runtools import AsyncClient, Client

Handler = Callable[[httpx.Request], httpx.Response]


class FakeServer:
    """Answers requests from a table of (method, path) -> handler, and records them."""

    def __init__(self) -> None:
        self.routes: Dict[Tuple[str, str], Handler] = {}
        self.requests: List[httpx.Request] = []

    def on(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def json(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.on(method, path, lambda r: httpx.Response(status, json=body))

    def ndjson(self, method: str, path: str, lines: List[Any]) -> None:
        body = "".join(json.dumps(x) + "\n" for x in lines).encode()
        self.on(method, path, lambda r: httpx.Response(200, content=body))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"error": {"code": "not_found", "message": f"no route {request.url.path}"}})
        return handler(request)

    def client(self) -> Client:
        return Client("http://fake", "key", http_client=httpx.Client(transport=httpx.MockTransport(self)))

    def async_client(self) -> AsyncClient:
        return AsyncClient("http://fake", "key", http_client=httpx.AsyncClient(transport=httpx.MockTransport(self)))

    def body(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)


SANDBOX = {"id": "sandbox-abc", "name": "t", "state": "running", "template": "base",
           "urls": [{"port": 8000, "url": "http://8000-sandbox-abc.sandboxes.localhost"}],
           "egress": {}, "created_at": "2026-12-08T00:27:18.123456789Z"}
