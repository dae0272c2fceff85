"""Background processes, for the sync API: a handle by pid with its
output, its end, signals and stdin."""

from __future__ import annotations

from typing import Optional, Union

from . import _calls as calls
from ._fold import ExecFold, OnEvent, OnText
from ._http import SyncHTTP
from .models import ExecResult

# The most input the server takes in one request.
MAX_STDIN = 1 << 20


class Process:
    """A process started with ``sandbox.start(...)`` (or ``sandbox.process(pid)``)."""

    def __init__(self, http: SyncHTTP, ref: str, pid: int) -> None:
        self._http = http
        self._ref = ref
        self.pid = pid

    def __repr__(self) -> str:
        return f"Process(pid={self.pid}, sandbox={self._ref!r})"

    def output(self, *, follow: bool = False, on_stdout: Optional[OnText] = None,
               on_stderr: Optional[OnText] = None, on_event: Optional[OnEvent] = None) -> ExecResult:
        """Its output so far (exit_code -1 while it runs), or with follow everything until it exits."""
        fold = ExecFold(on_stdout, on_stderr, on_event)
        with self._http.stream(calls.output(self._ref, self.pid, follow)) as resp:
            for line in resp.iter_lines():
                if fold.feed(line):
                    break
        return fold.result(f"process {self.pid}", require_exit=follow)

    def wait(self, *, on_stdout: Optional[OnText] = None, on_stderr: Optional[OnText] = None) -> ExecResult:
        """Follows it to its end: all of its output and its exit code."""
        return self.output(follow=True, on_stdout=on_stdout, on_stderr=on_stderr)

    def kill(self, signal: Union[str, int] = "TERM") -> None:
        """Signals it and its process group (TERM, KILL, INT, HUP, ... or a number)."""
        self._http.send(calls.signal(self._ref, self.pid, signal))

    def send_stdin(self, data: Union[str, bytes]) -> None:
        """Writes to its stdin (it must have been started with stdin_open=True); returns once taken."""
        raw = data.encode() if isinstance(data, str) else data
        for i in range(0, len(raw), MAX_STDIN):
            self._http.send(calls.stdin(self._ref, self.pid, raw[i:i + MAX_STDIN], False))

    def close_stdin(self) -> None:
        """Ends its stdin, as the end of a file would."""
        self._http.send(calls.stdin(self._ref, self.pid, b"", True))
