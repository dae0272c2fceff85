"""Live status changes and metrics for the sync API, over Server-Sent
Events, in a background thread that reconnects by itself with backoff and
resumes after the last status change delivered, so none is lost or
repeated (see client/watch.go for the Go version). Listeners run in that
thread."""

from __future__ import annotations

import threading
from typing import Any, Optional

from . import _calls as calls
from . import routes
from ._fold import SSEParser
from ._http import SyncHTTP
from ._listeners import MAX_BACKOFF, MIN_BACKOFF, Listener, Listeners, fatal


class Watcher:
    """A stream of one sandbox's events (ref given) or of every sandbox of the team."""

    def __init__(self, http: SyncHTTP, ref: Optional[str], after: int = 0,
                 team_metrics: bool = False) -> None:
        self._http = http
        self._ref = ref
        self._listeners = Listeners()
        self._listeners.after = after
        self._team_metrics = team_metrics
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    @property
    def seq(self) -> int:
        """The seq of the last status change delivered (0 before any)."""
        return self._listeners.after

    def on(self, event: str, fn: Listener) -> "Watcher":
        """Adds a listener of "status", "metrics" or "error"; the first status or metrics one starts the stream."""
        with self._lock:
            self._listeners.add(event, fn)
            if self._thread is not None and self._thread.is_alive():
                return self
            if self._listeners.wanted():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="runtools-watch", daemon=True)
                self._thread.start()
        return self

    def off(self, event: str, fn: Optional[Listener] = None) -> "Watcher":
        """Removes a listener (or all of the event's); removing the last one stops the stream."""
        with self._lock:
            self._listeners.remove(event, fn)
            if not self._listeners.wanted():
                self._stop.set()
        return self

    def close(self) -> None:
        """Stops the stream and removes every listener."""
        with self._lock:
            self._listeners.clear()
            self._stop.set()

    def join(self, timeout: Optional[float] = None) -> None:
        """Waits for the stream's thread to end (after close, or a fatal error)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = MIN_BACKOFF
        while not self._stop.is_set() and self._listeners.wanted():
            got = False
            try:
                got = self._once()
            except Exception as e:  # noqa: BLE001 - every failure is retried or reported
                if fatal(e):
                    self._listeners.report(e)
                    return
            backoff = MIN_BACKOFF if got else min(2 * backoff, MAX_BACKOFF)
            self._stop.wait(backoff)

    def _once(self) -> bool:
        # A sandbox's stream always carries its metrics (the server's default, one small event a
        # second): a metrics listener added later needs no new connection, and close() is noticed
        # within a second. A team's carries them when asked for at the start.
        if self._ref:
            call = calls.watch(routes.watch_sandbox, self._ref, self.seq, None)
        else:
            call = calls.watch(routes.watch_team, None, self.seq, True if self._team_metrics else None)
        parser, got = SSEParser(), False
        with self._http.stream(call) as resp:
            for line in resp.iter_lines():
                if self._stop.is_set():
                    break
                ev = parser.feed(line)
                if ev is not None:
                    got = True
                    self._dispatch(ev)
        return got

    def _dispatch(self, ev: Any) -> None:
        for call in self._listeners.calls(ev):
            try:
                call()
            except Exception as e:  # noqa: BLE001 - a listener's error goes to the error listeners
                self._listeners.report(e)
