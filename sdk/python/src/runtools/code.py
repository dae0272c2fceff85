"""The code interpreter's wire types (see the code-interpreter contract:
POST /v1/sandboxes/{ref}/code) and the folding of its event stream.

api/openapi.yaml does not describe these yet; ``PENDING_SCHEMAS`` names
the schemas the spec is expected to gain, which tests/test_openapi.py
checks as soon as they appear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ._fold import parse_line
from ._wire import decode


@dataclass
class CodeResult:
    """A value the cell displayed; ``is_main`` marks the cell's last expression. Images are base64."""

    is_main: bool = False
    text: Optional[str] = None
    html: Optional[str] = None
    markdown: Optional[str] = None
    svg: Optional[str] = None
    png: Optional[str] = None
    jpeg: Optional[str] = None
    latex: Optional[str] = None
    json: Any = None
    javascript: Optional[str] = None

    def formats(self) -> List[str]:
        """The representations this result has."""
        return [k for k in ("text", "html", "markdown", "svg", "png", "jpeg", "latex", "json", "javascript")
                if getattr(self, k) is not None]


@dataclass
class CodeError:
    """What the cell raised; the kernel lives on."""

    name: str = ""
    value: str = ""
    traceback: str = ""


@dataclass
class CodeEvent:
    """One line of a cell's event stream."""

    type: str = ""
    text: Optional[str] = None
    result: Optional[CodeResult] = None
    error: Optional[CodeError] = None
    execution_count: int = 0
    timed_out: bool = False


@dataclass
class Execution:
    """A cell's run: its output, results, error, and ``text``, the main result's text."""

    stdout: str = ""
    stderr: str = ""
    results: List[CodeResult] = field(default_factory=list)
    error: Optional[CodeError] = None
    execution_count: int = 0
    timed_out: bool = False
    notices: List[str] = field(default_factory=list)

    @property
    def text(self) -> Optional[str]:
        """The text of the result of the cell's last expression, or None."""
        for r in self.results:
            if r.is_main:
                return r.text
        return None


@dataclass
class CodeContext:
    """A kernel of its own, with its own state."""

    id: str = ""
    language: str = ""
    cwd: str = ""


# The spec's schemas-to-be of these types, by name (components/schemas).
PENDING_SCHEMAS: Dict[type, str] = {
    CodeResult: "CodeResult", CodeError: "CodeError", CodeEvent: "CodeEvent",
    Execution: "Execution", CodeContext: "CodeContext",
}

RUN_CODE_FIELDS: Tuple[str, ...] = ("code", "language", "context", "timeout_ms", "env")


def run_code_request(code: str, language: Optional[str], context: Optional[str],
                     timeout: Optional[float], env: Optional[Mapping[str, str]]) -> Dict[str, Any]:
    """The body of POST .../code (RunCodeRequest); timeout is in seconds."""
    req: Dict[str, Any] = {"code": code}
    if language:
        req["language"] = language
    if context:
        req["context"] = context
    if timeout:
        req["timeout_ms"] = max(1, int(timeout * 1000))
    if env:
        req["env"] = dict(env)
    return req


OnCodeText = Callable[[str], Any]


class CodeFold:
    """Folds a cell's events into its Execution, handing each to callbacks as it comes."""

    def __init__(self, on_stdout: Optional[OnCodeText] = None, on_stderr: Optional[OnCodeText] = None,
                 on_result: Optional[Callable[[CodeResult], Any]] = None,
                 on_error: Optional[Callable[[CodeError], Any]] = None) -> None:
        self.on_stdout, self.on_stderr, self.on_result, self.on_error = on_stdout, on_stderr, on_result, on_error
        self.execution = Execution()
        self.out: List[str] = []
        self.err: List[str] = []
        self.ended = False

    def feed(self, line: str) -> bool:
        """Takes one line; True once the end event came."""
        if not line.strip():
            return False
        ev = decode(CodeEvent, parse_line(line, "a cell's events"))
        ex = self.execution
        if ev.type == "stdout" and ev.text:
            self.out.append(ev.text)
            _call(self.on_stdout, ev.text)
        elif ev.type == "stderr" and ev.text:
            self.err.append(ev.text)
            _call(self.on_stderr, ev.text)
        elif ev.type == "result" and ev.result is not None:
            ex.results.append(ev.result)
            _call(self.on_result, ev.result)
        elif ev.type == "error" and ev.error is not None:
            ex.error = ev.error
            _call(self.on_error, ev.error)
        elif ev.type == "notice" and ev.text:
            ex.notices.append(ev.text)
        elif ev.type == "end":
            ex.execution_count, ex.timed_out, self.ended = ev.execution_count, ev.timed_out, True
        return self.ended

    def result(self) -> Execution:
        """The Execution; an error if the stream ended before the cell did."""
        if not self.ended:
            from .errors import Unavailable
            raise Unavailable("the cell's event stream ended before the cell did; run it again "
                              "(the kernel may have been restarted: see the sandbox's state)")
        self.execution.stdout, self.execution.stderr = "".join(self.out), "".join(self.err)
        return self.execution


def _call(fn: Optional[Callable[[Any], Any]], value: Any) -> None:
    if fn is not None:
        fn(value)


def contexts(data: Any) -> List[CodeContext]:
    """The contexts of GET .../code/contexts."""
    items = data.get("contexts") if isinstance(data, dict) else None
    return [decode(CodeContext, c) for c in items or []]
