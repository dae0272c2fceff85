"""Live status changes and metrics for the async API, over Server-Sent
Events, in an asyncio task that reconnects by itself with backoff and
resumes after the last status change delivered, so none is lost or
repeated. Listeners may be plain functions or coroutine functions."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Optional

from . import _calls as calls
from . import routes
from ._fold import SSEParser
from ._http import AsyncHTTP
from ._listeners import MAX_BACKOFF, MIN_BACKOFF, Listener, Listeners, fatal
from .models import WatchEvent


class AsyncWatcher:
    """A stream of one sandbox's events (ref given) or of every sandbox of the team."""

    def __init__(self, http: AsyncHTTP, ref: Optional[str], after: int = 0,
                 team_metrics: bool = False) -> None:
        self._http = http
        self._ref = ref
        self._listeners = Listeners()
        self._listeners.after = after
        self._team_metrics = team_metrics
        self._task: Optional["asyncio.Task[None]"] = None

    @property
    def seq(self) -> int:
        """The seq of the last status change delivered (0 before any)."""
        return self._listeners.after

    def on(self, event: str, fn: Listener) -> "AsyncWatcher":
        """Adds a listener of "status", "metrics" or "error"; the first status or metrics one starts
        the stream, as a task of the running event loop."""
        self._listeners.add(event, fn)
        if (self._task is None or self._task.done()) and self._listeners.wanted():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError("AsyncSandbox.on() needs a running event loop: call it from async code") from None
            self._task = loop.create_task(self._run())
        return self

    def off(self, event: str, fn: Optional[Listener] = None) -> "AsyncWatcher":
        """Removes a listener (or all of the event's); removing the last one stops the stream."""
        self._listeners.remove(event, fn)
        if not self._listeners.wanted():
            self._cancel()
        return self

    def close(self) -> None:
        """Stops the stream and removes every listener."""
        self._listeners.clear()
        self._cancel()

    async def closed(self) -> None:
        """Waits for the stream's task to end (after close, or a fatal error)."""
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        backoff = MIN_BACKOFF
        while self._listeners.wanted():
            got = False
            try:
                got = await self._once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - every failure is retried or reported
                if fatal(e):
                    await self._report(e)
                    return
            backoff = MIN_BACKOFF if got else min(2 * backoff, MAX_BACKOFF)
            await asyncio.sleep(backoff)

    async def _once(self) -> bool:
        # A sandbox's stream always carries its metrics (the server's default, one small event a
        # second): a metrics listener added later needs no new connection, and close() is noticed
        # within a second. A team's carries them when asked for at the start.
        if self._ref:
            call = calls.watch(routes.watch_sandbox, self._ref, self.seq, None)
        else:
            call = calls.watch(routes.watch_team, None, self.seq, True if self._team_metrics else None)
        parser, got = SSEParser(), False
        async with self._http.stream(call) as resp:
            async for line in resp.aiter_lines():
                ev = parser.feed(line)
                if ev is not None:
                    got = True
                    await self._dispatch(ev)
        return got

    async def _dispatch(self, ev: WatchEvent) -> None:
        for call in self._listeners.calls(ev):
            try:
                await _settle(call())
            except Exception as e:  # noqa: BLE001 - a listener's error goes to the error listeners
                await self._report(e)

    async def _report(self, err: BaseException) -> None:
        for fn in list(self._listeners.by_event["error"]):
            await _settle(fn(err))
        if not self._listeners.by_event["error"]:
            self._listeners.report(err)


async def _settle(value: Any) -> None:
    if inspect.isawaitable(value):
        await value
