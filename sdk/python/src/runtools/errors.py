"""Exceptions for the API's error answers.

The server answers errors with ``{"error": {"code": ..., "message": ...}}``
(the Error schema of api/openapi.yaml). Each code has a class here, and
every one is a :class:`RuntoolsError`, so ``except runtools.NotFound``
catches what the Go SDK's ``errors.Is(err, client.ErrNotFound)`` does.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Type

from ._wire import decode
from .models import Quota


class RuntoolsError(Exception):
    """An error of the runtools API or of reaching it.

    ``code`` is the wire code (``not_found``, ...); ``status`` the HTTP
    status, 0 when no answer came. ``quota`` is set when a team's quota
    refused the request: which limit, its use, the limit and what to do.
    """

    code: str = "internal"

    def __init__(self, message: str, *, status: int = 0, code: Optional[str] = None,
                 quota: Optional[Quota] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.quota = quota
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
    """A limit or a team's quota is reached (``quota`` says which): 429 for what runs
    (sandboxes, vCPUs, memory, builds, disk space for a snapshot), 403 for a team's
    disk quota."""

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


def error_for(code: str, message: str, status: int = 0, quota: Optional[Quota] = None) -> RuntoolsError:
    """The exception of a wire code; an unknown code is a RuntoolsError that keeps it."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return RuntoolsError(message or code, status=status, code=code, quota=quota)
    return cls(message or f"{code} (HTTP {status})", status=status, code=code, quota=quota)


def error_from_answer(status: int, body: bytes) -> RuntoolsError:
    """The exception of an error answer: its code if the body has one, else one from the status."""
    quota: Optional[Quota] = None
    try:
        err = json.loads(body.decode("utf-8", "replace")).get("error") or {}
        code, message = str(err.get("code") or ""), str(err.get("message") or "")
        q: Any = err.get("quota")
        if isinstance(q, dict):
            quota = decode(Quota, q)
    except (ValueError, AttributeError, TypeError):
        code, message = "", ""
    if not code:
        code = _BY_STATUS.get(status, "internal")
        message = body.decode("utf-8", "replace").strip()[:2000]
    return error_for(code, message, status, quota)
