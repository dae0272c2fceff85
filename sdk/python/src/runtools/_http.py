"""Sending requests: the sync and async transports over httpx.

A :class:`Call` is one request, built without I/O; :class:`SyncHTTP` and
:class:`AsyncHTTP` send it, turn error answers into exceptions
(errors.py) and try idempotent calls again, with backoff, when the
connection is lost before an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, Iterable, Iterator, Mapping, Optional, Sequence, Union
from urllib.parse import quote

import httpx

from .config import ENV_URL, Config
from .errors import RuntoolsError, Unavailable, error_from_answer
from .routes import Route

QueryValue = Union[str, int, bool, Sequence[str], None]

# Delays before each new attempt of an idempotent call whose connection dropped.
RETRY_DELAYS = (0.1, 0.3, 0.9, 2.0)
_RETRYABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError, httpx.WriteError,
              httpx.RemoteProtocolError, httpx.PoolTimeout)

# Plain calls wait up to 10 minutes (a build step, a large snapshot);
# streams (exec output, watch, builds) wait as long as they run.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=15.0)
STREAM_TIMEOUT = httpx.Timeout(None, connect=15.0)


@dataclass
class Call:
    """One request: a route, its path parameters, query, and a JSON or raw body."""

    route: Route
    params: Mapping[str, Union[str, int]] = field(default_factory=dict)
    query: Mapping[str, QueryValue] = field(default_factory=dict)
    json: Any = None
    content: Any = None
    content_type: Optional[str] = None
    accept: Optional[str] = None

    def path(self) -> str:
        """The route's path with its parameters filled in and escaped."""
        p = self.route.path
        for k, v in self.params.items():
            p = p.replace("{" + k + "}", quote(str(v), safe=""))
        return p

    def query_params(self) -> "list[tuple[str, str | int | float | bool | None]]":
        """The query as pairs, booleans as true/false, None values left out."""
        out: "list[tuple[str, str | int | float | bool | None]]" = []
        for k, v in self.query.items():
            if v is None:
                continue
            values = v if isinstance(v, (list, tuple)) else [v]
            for one in values:
                out.append((k, ("true" if one else "false") if isinstance(one, bool) else str(one)))
        return out

    def retryable(self) -> bool:
        """Whether the call may be sent again: idempotent, with a body that can be sent twice."""
        return self.route.idempotent and (self.content is None or isinstance(self.content, bytes))


def _headers(cfg: Config, call: Call) -> Dict[str, str]:
    h = {"Authorization": "Bearer " + cfg.api_key, "User-Agent": "runtools-python"}
    if call.json is not None:
        h["Content-Type"] = "application/json"
    elif call.content_type:
        h["Content-Type"] = call.content_type
    if call.accept:
        h["Accept"] = call.accept
    return h


def _request(client: "httpx.Client | httpx.AsyncClient", cfg: Config, call: Call, stream: bool) -> httpx.Request:
    content = call.content
    if call.json is not None:
        content = jsonlib.dumps(call.json).encode()
    timeout = STREAM_TIMEOUT if stream else client.timeout
    return client.build_request(call.route.method, cfg.url + call.path(), params=call.query_params(),
                                headers=_headers(cfg, call), content=content, timeout=timeout)


def unreachable(cfg: Config, err: Exception) -> Unavailable:
    """The error of a server that gave no answer."""
    return Unavailable(f"cannot reach the runtools server at {cfg.url}: {err} "
                       f"(is `runtools server` running? check {ENV_URL})")


def decode_json(resp: httpx.Response, call: Call) -> Any:
    """The JSON of an answer (None for an empty one)."""
    if not resp.content:
        return None
    try:
        return jsonlib.loads(resp.content)
    except ValueError as e:
        raise RuntoolsError(f"decoding the answer of {call.route.method} {call.path()}: {e}",
                            status=resp.status_code) from e


class SyncHTTP:
    """Sends calls over an httpx.Client; safe to share between threads."""

    def __init__(self, cfg: Config, client: Optional[httpx.Client] = None) -> None:
        self.cfg = cfg
        self.client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)

    def _send(self, call: Call, stream: bool) -> httpx.Response:
        delays = list(RETRY_DELAYS) if call.retryable() else []
        while True:
            try:
                resp = self.client.send(_request(self.client, self.cfg, call, stream), stream=stream)
                break
            except httpx.TimeoutException as e:
                if isinstance(e, httpx.ConnectTimeout) and delays:
                    time.sleep(delays.pop(0))
                    continue
                raise unreachable(self.cfg, e) from e
            except _RETRYABLE as e:
                if not delays:
                    raise unreachable(self.cfg, e) from e
                time.sleep(delays.pop(0))
            except httpx.TransportError as e:
                raise unreachable(self.cfg, e) from e
        if resp.status_code >= 300:
            body = resp.read()
            resp.close()
            raise error_from_answer(resp.status_code, body)
        return resp

    def send(self, call: Call) -> httpx.Response:
        """Sends a call and reads its whole answer."""
        return self._send(call, stream=False)

    def json(self, call: Call) -> Any:
        """Sends a call and decodes its JSON answer."""
        return decode_json(self.send(call), call)

    @contextlib.contextmanager
    def stream(self, call: Call) -> Iterator[httpx.Response]:
        """Sends a call and yields its answer unread, to be read as it comes."""
        resp = self._send(call, stream=True)
        try:
            yield resp
        except httpx.TransportError as e:
            raise unreachable(self.cfg, e) from e
        finally:
            resp.close()

    def close(self) -> None:
        """Closes the connections."""
        self.client.close()


class AsyncHTTP:
    """Sends calls over an httpx.AsyncClient."""

    def __init__(self, cfg: Config, client: Optional[httpx.AsyncClient] = None) -> None:
        self.cfg = cfg
        self.client = client or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)

    async def _send(self, call: Call, stream: bool) -> httpx.Response:
        if call.content is not None and not isinstance(call.content, bytes) and not hasattr(call.content, "__aiter__"):
            call.content = _async_chunks(call.content)
        delays = list(RETRY_DELAYS) if call.retryable() else []
        while True:
            try:
                resp = await self.client.send(_request(self.client, self.cfg, call, stream), stream=stream)
                break
            except httpx.TimeoutException as e:
                if isinstance(e, httpx.ConnectTimeout) and delays:
                    await asyncio.sleep(delays.pop(0))
                    continue
                raise unreachable(self.cfg, e) from e
            except _RETRYABLE as e:
                if not delays:
                    raise unreachable(self.cfg, e) from e
                await asyncio.sleep(delays.pop(0))
            except httpx.TransportError as e:
                raise unreachable(self.cfg, e) from e
        if resp.status_code >= 300:
            body = await resp.aread()
            await resp.aclose()
            raise error_from_answer(resp.status_code, body)
        return resp

    async def send(self, call: Call) -> httpx.Response:
        """Sends a call and reads its whole answer."""
        return await self._send(call, stream=False)

    async def json(self, call: Call) -> Any:
        """Sends a call and decodes its JSON answer."""
        return decode_json(await self.send(call), call)

    @contextlib.asynccontextmanager
    async def stream(self, call: Call) -> AsyncIterator[httpx.Response]:
        """Sends a call and yields its answer unread, to be read as it comes."""
        resp = await self._send(call, stream=True)
        try:
            yield resp
        except httpx.TransportError as e:
            raise unreachable(self.cfg, e) from e
        finally:
            await resp.aclose()

    async def aclose(self) -> None:
        """Closes the connections."""
        await self.client.aclose()


async def _async_chunks(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    """A sync body (chunks from a file or a tar of local files) as httpx.AsyncClient streams it."""
    for chunk in chunks:
        yield chunk
