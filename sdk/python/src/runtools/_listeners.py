"""The listeners of a watch, shared by the sync (thread) and async (task) watchers."""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Dict, List, Optional

from .models import WatchEvent

log = logging.getLogger("runtools")

EVENTS = ("status", "metrics", "error")
Listener = Callable[[Any], Any]

# Backoff between reconnections, in seconds.
MIN_BACKOFF = 0.1
MAX_BACKOFF = 5.0


class Listeners:
    """Listeners by event name: status, metrics and error."""

    def __init__(self) -> None:
        self.by_event: Dict[str, List[Listener]] = {e: [] for e in EVENTS}
        self.after = 0

    def add(self, event: str, fn: Listener) -> None:
        """Adds fn to event's listeners."""
        if event not in self.by_event:
            raise ValueError(f"unknown event {event!r}: use one of {', '.join(EVENTS)}")
        self.by_event[event].append(fn)

    def remove(self, event: str, fn: Optional[Listener]) -> None:
        """Removes fn, or all of event's listeners."""
        fns = self.by_event.get(event, [])
        if fn is None:
            fns.clear()
        elif fn in fns:
            fns.remove(fn)

    def clear(self) -> None:
        """Removes every listener."""
        for fns in self.by_event.values():
            fns.clear()

    def wanted(self) -> bool:
        """Whether anyone listens to status or metrics."""
        return bool(self.by_event["status"] or self.by_event["metrics"])

    def calls(self, ev: WatchEvent) -> List[Callable[[], Any]]:
        """The listener calls an event makes, keeping the seq to resume after."""
        if ev.type == "status" and ev.status is not None:
            if ev.seq > 0:
                self.after = ev.seq
            st = ev.status
            return [functools.partial(fn, st) for fn in list(self.by_event["status"])]
        if ev.type == "metrics" and ev.metrics is not None:
            m = ev.metrics
            return [functools.partial(fn, m) for fn in list(self.by_event["metrics"])]
        return []

    def report(self, err: BaseException) -> None:
        """Hands err to the error listeners, or logs it when there are none."""
        fns = list(self.by_event["error"])
        if not fns:
            log.error("runtools watch: %s", err, exc_info=err)
        for fn in fns:
            fn(err)


def fatal(err: BaseException) -> bool:
    """Whether a watch that failed with err would fail again (the key or the sandbox is gone)."""
    status = getattr(err, "status", 0)
    return isinstance(status, int) and 0 < status < 500
