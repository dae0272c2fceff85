"""Reading streamed answers without I/O: command output events, build
progress and Server-Sent Events, fed one line at a time by the sync and
async transports alike."""

from __future__ import annotations

import base64
import codecs
import json
import shlex
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from .errors import RuntoolsError, Unavailable, error_for
from .models import DrainEvent, ExecEvent, ExecResult, TemplateProgress, WatchEvent
from ._wire import decode
from .requests import ExecRequest

Command = Union[str, Sequence[str]]
OnText = Callable[[str], Any]
OnEvent = Callable[[ExecEvent], Any]


def command(cmd: Command) -> List[str]:
    """A command as argv: a string runs with ``sh -c``, a list as it is."""
    if isinstance(cmd, str):
        return ["sh", "-c", cmd]
    argv = list(cmd)
    if not argv:
        raise error_for("invalid_argument", "the command is empty: pass a string or a list of arguments")
    return argv


def exec_request(cmd: Command, *, env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None,
                 user: Optional[str] = None, timeout: Optional[float] = None,
                 stdin: Union[str, bytes, None] = None) -> ExecRequest:
    """The body of exec or of a background start; timeout is in seconds."""
    req: ExecRequest = {"cmd": command(cmd)}
    if env:
        req["env"] = dict(env)
    if cwd:
        req["cwd"] = cwd
    if user:
        req["user"] = user
    if timeout:
        req["timeout_ms"] = max(1, int(timeout * 1000))
    if stdin is not None:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        req["stdin"] = base64.b64encode(data).decode()
    return req


def describe(cmd: Command) -> str:
    """A command as a shell would show it, for messages."""
    return cmd if isinstance(cmd, str) else shlex.join(cmd)


def parse_line(line: str, what: str) -> Dict[str, Any]:
    """One NDJSON line as an object."""
    try:
        obj = json.loads(line)
    except ValueError as e:
        raise RuntoolsError(f"decoding {what}: {e}: {line[:200]!r}") from e
    return obj if isinstance(obj, dict) else {}


class ExecFold:
    """Folds a command's events into its result, handing output to callbacks as it comes.

    Output is decoded as UTF-8; a character split between two chunks waits
    until it is whole.
    """

    def __init__(self, on_stdout: Optional[OnText] = None, on_stderr: Optional[OnText] = None,
                 on_event: Optional[OnEvent] = None) -> None:
        self.callbacks = {"stdout": on_stdout, "stderr": on_stderr}
        self.on_event = on_event
        self.decoders = {k: codecs.getincrementaldecoder("utf-8")("replace") for k in ("stdout", "stderr")}
        self.out: Dict[str, List[str]] = {"stdout": [], "stderr": []}
        self.exit_code: Optional[int] = None
        self.ended = False
        self.timed_out = False
        self.error: Optional[str] = None
        self.failed: Optional[RuntoolsError] = None

    def feed(self, line: str) -> bool:
        """Takes one line; True once the exit event came."""
        if not line.strip():
            return False
        ev = decode(ExecEvent, parse_line(line, "a command's output"))
        if self.on_event:
            self.on_event(ev)
        if ev.type in self.decoders:
            self._text(ev.type, self.decoders[ev.type].decode(ev.bytes))
        elif ev.type == "exit":
            self.exit_code = ev.exit_code if ev.exit_code is not None else -1
            self.timed_out = ev.timed_out
            self.ended = True
        elif ev.type == "error":
            self.error = ev.message
            if ev.code:
                self.failed = error_for(ev.code, ev.message or ev.code, 200)
        return self.ended

    def _text(self, stream: str, text: str) -> None:
        if not text:
            return
        self.out[stream].append(text)
        cb = self.callbacks[stream]
        if cb:
            cb(text)

    def result(self, what: str, require_exit: bool = True) -> ExecResult:
        """The collected result once the stream ended; an error if it ended before the exit."""
        for stream, dec in self.decoders.items():
            self._text(stream, dec.decode(b"", final=True))
        if not self.ended:
            if self.failed:
                raise self.failed
            if require_exit:
                raise Unavailable(f"the output stream of {what} ended before the command did; "
                                  "check the sandbox's state (it may have stopped) and run it again")
        return ExecResult(stdout="".join(self.out["stdout"]), stderr="".join(self.out["stderr"]),
                          exit_code=self.exit_code if self.exit_code is not None else -1,
                          timed_out=self.timed_out, error=self.error)


class BuildFold:
    """Folds a template build's progress lines, keeping the last."""

    def __init__(self, progress: Optional[Callable[[TemplateProgress], Any]]) -> None:
        self.progress = progress
        self.last = TemplateProgress()

    def feed(self, line: str) -> None:
        """Takes one line of progress."""
        if not line.strip():
            return
        self.last = decode(TemplateProgress, parse_line(line, "a build's progress"))
        if self.progress:
            self.progress(self.last)

    def check(self, name: str) -> None:
        """Raises the build's error, or an error if it ended without a result."""
        if self.last.error:
            raise error_for(self.last.code or "unavailable", f"building {name}: {self.last.error}", 400)
        if not self.last.done:
            raise Unavailable(f"the build of {name} ended without a result; look at `runtools template get {name}`")


class DrainFold:
    """Folds a drain's lines: each sandbox's outcome to a callback, the last (done) as the summary."""

    def __init__(self, on_event: Optional[Callable[[DrainEvent], Any]]) -> None:
        self.on_event = on_event
        self.summary: Optional[DrainEvent] = None

    def feed(self, line: str) -> None:
        """Takes one line of the drain."""
        if not line.strip():
            return
        ev = decode(DrainEvent, parse_line(line, "a drain's progress"))
        if ev.done:
            self.summary = ev
        elif self.on_event:
            self.on_event(ev)

    def result(self, node: str) -> DrainEvent:
        """The summary; an error if the stream ended without it."""
        if self.summary is None:
            raise Unavailable(f"the drain of {node} ended without a summary; see where its sandboxes are "
                              "with `runtools node list` and `runtools sandbox list`")
        return self.summary


class SSEParser:
    """Server-Sent Events, a line at a time: the data of each event as a WatchEvent."""

    def __init__(self) -> None:
        self.data: List[str] = []

    def feed(self, line: str) -> Optional[WatchEvent]:
        """Takes one line; a WatchEvent when it ends an event."""
        line = line.rstrip("\r\n")
        if line.startswith("data:"):
            self.data.append(line[6:] if line.startswith("data: ") else line[5:])
            return None
        if line or not self.data:
            return None  # id:, event: and ":" heartbeats say nothing the data does not
        text, self.data = "\n".join(self.data), []
        ev = decode(WatchEvent, parse_line(text, "a watch event"))
        if ev.status is not None:
            ev.status.seq = ev.seq
        return ev

