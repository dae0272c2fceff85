"""Where the server is and which key to use: explicit arguments, else
``RUNTOOLS_URL`` and ``RUNTOOLS_API_KEY`` as the CLI reads them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit

from .errors import InvalidArgument, Unauthorized

ENV_URL = "RUNTOOLS_URL"
ENV_API_KEY = "RUNTOOLS_API_KEY"
DEFAULT_URL = "http://127.0.0.1:7070"


@dataclass(frozen=True)
class Config:
    """A server's base URL and the API key to send it (never printed)."""

    url: str
    api_key: str = field(repr=False)


def resolve(url: Optional[str] = None, api_key: Optional[str] = None) -> Config:
    """The configuration: the arguments given, else the environment, else the default URL."""
    base = (url or os.environ.get(ENV_URL) or DEFAULT_URL).rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(f"server URL {base!r} must look like http://host:port (pass url= or set {ENV_URL})")
    key = api_key or os.environ.get(ENV_API_KEY) or ""
    if not key:
        raise Unauthorized(f"no API key: pass api_key=, set {ENV_API_KEY}, or run `runtools login`")
    return Config(url=base, api_key=key)
