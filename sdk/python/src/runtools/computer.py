"""Computer use of a desktop sandbox (template ``desktop``), for the sync
API: screenshots, the mouse, the keyboard and app launches. Each call
returns once its effect is done; on other sandboxes they raise Conflict."""

from __future__ import annotations

from typing import List

from . import _calls as calls
from . import routes
from ._http import SyncHTTP
from ._wire import decode, items
from .models import ComputerResult, Point, ScreenSize, Window
from .requests import ComputerAction


class Computer:
    """The screen, mouse and keyboard of one desktop sandbox (``sandbox.computer``)."""

    def __init__(self, http: SyncHTTP, ref: str) -> None:
        self._http = http
        self._ref = ref

    def screenshot(self) -> bytes:
        """The screen as PNG."""
        return self._http.send(calls.sb(routes.screenshot, self._ref)).content

    def screen_size(self) -> ScreenSize:
        """The screen's size in pixels."""
        return decode(ScreenSize, self._http.json(calls.sb(routes.screen_size, self._ref)))

    def cursor(self) -> Point:
        """Where the pointer is."""
        return decode(Point, self._http.json(calls.sb(routes.cursor, self._ref)))

    def windows(self) -> List[Window]:
        """The visible windows."""
        return [decode(Window, w) for w in items(self._http.json(calls.sb(routes.windows, self._ref)), "windows")]

    def act(self, action: ComputerAction) -> ComputerResult:
        """Any action of POST .../computer/actions."""
        return decode(ComputerResult, self._http.json(calls.act(self._ref, action)))

    def move(self, x: int, y: int) -> ComputerResult:
        """Moves the pointer to (x, y)."""
        return self.act({"action": "move", "x": x, "y": y})

    def click(self, x: int, y: int, button: str = "left", count: int = 1) -> ComputerResult:
        """Clicks at (x, y); count 2 is a double click."""
        return self.act({"action": "click", "x": x, "y": y, "button": button, "count": count})

    def double_click(self, x: int, y: int) -> ComputerResult:
        """Double-clicks the left button at (x, y)."""
        return self.click(x, y, count=2)

    def right_click(self, x: int, y: int) -> ComputerResult:
        """Clicks the right button at (x, y)."""
        return self.click(x, y, button="right")

    def scroll(self, dy: int, dx: int = 0) -> ComputerResult:
        """Scrolls dy notches down (negative: up) and dx right, where the pointer is."""
        return self.act({"action": "scroll", "dy": dy, "dx": dx})

    def type(self, text: str) -> ComputerResult:
        """Types text."""
        return self.act({"action": "type", "text": text})

    def key(self, *keys: str) -> ComputerResult:
        """Presses keys in turn: names or combinations such as "ctrl+l", "Return"."""
        return self.act({"action": "key", "keys": list(keys)})

    def launch(self, app: str, *args: str) -> ComputerResult:
        """Starts an app (firefox, chromium, terminal, files, or a program) once its window shows."""
        return self.act({"action": "launch", "app": app, "args": list(args)})
