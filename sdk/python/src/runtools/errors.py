"""Exceptions for the API's error answers.

The server answers errors with ``{"error": {"code": ..., "message": ...}}``
(the Error schema of api/openapi.yaml). Each code has a class here, and
every one is a :class:`RuntoolsError`, so ``except runtools.NotFound``
catches what the Go SDK's ``errors.Is(err, client.ErrNotFound)`` does.
"""

from __future__ import annotations

import json
from typing import Dict, Optional, Type


class RuntoolsError(Exception):
    """An error of the runtools API or of reaching it.

    ``code`` is the wire code (``not_found``, ...); ``status`` the HTTP
    status, 0 when no answer came.
    """

    code: str = "internal"

    def __init__(self, message: str, *, status: int = 0, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        if code is not None:
            self.code = code


class NotFound(RuntoolsError):
    """404: no such sandbox, template, snapshot, process, file or key."""

    code = "not_found"


class Conflict(RuntoolsError):
    """409: the thing is in a state that does not allow the call."""

    code = "conflict"


class AlreadyExists(Conflict):
    """409: the name is taken."""

    code = "already_exists"


class InvalidArgument(RuntoolsError):
    """400: the request is wrong; the message says which part."""

    code = "invalid_argument"


class Unauthorized(RuntoolsError):
    """401: no API key, or one the server does not know."""

    code = "unauthenticated"


class Forbidden(RuntoolsError):
    """403: the key may not do this (an admin call, another team's thing)."""

    code = "permission_denied"


class RateLimited(RuntoolsError):
    """429: a limit or a quota is reached (disk space, sandboxes)."""

    code = "resource_exhausted"


class Unavailable(RuntoolsError):
    """503, or no answer at all: the server or the sandbox cannot serve now."""

    code = "unavailable"


class InternalError(RuntoolsError):
    """500: the server failed; its log says why."""

    code = "internal"


# The wire codes' other names, as in the Go and TypeScript SDKs.
Unauthenticated = Unauthorized
PermissionDenied = Forbidden
ResourceExhausted = RateLimited

_BY_CODE: Dict[str, Type[RuntoolsError]] = {
    c.code: c
    for c in (NotFound, Conflict, AlreadyExists, InvalidArgument, Unauthorized, Forbidden,
              RateLimited, Unavailable, InternalError)
}

_BY_STATUS = {400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "not_found",
              409: "conflict", 429: "resource_exhausted", 502: "unavailable", 503: "unavailable",
              504: "unavailable"}


def error_for(code: str, message: str, status: int = 0) -> RuntoolsError:
    """The exception of a wire code; an unknown code is a RuntoolsError that keeps it."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return RuntoolsError(message or code, status=status, code=code)
    return cls(message or f"{code} (HTTP {status})", status=status, code=code)


def error_from_answer(status: int, body: bytes) -> RuntoolsError:
    """The exception of an error answer: its code if the body has one, else one from the status."""
    try:
        err = json.loads(body.decode("utf-8", "replace")).get("error") or {}
        code, message = str(err.get("code") or ""), str(err.get("message") or "")
    except (ValueError, AttributeError):
        code, message = "", ""
    if not code:
        code = _BY_STATUS.get(status, "internal")
        message = body.decode("utf-8", "replace").strip()[:2000]
    return error_for(code, message, status)
