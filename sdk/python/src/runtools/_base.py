"""What the sync Sandbox and the async AsyncSandbox share: the sandbox's
fields (models.SandboxInfo), its URLs, and the arguments of a create."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional, Sequence, Union

from . import _calls as calls
from ._wire import decode
from .models import Egress, PortURL, SandboxInfo
from .requests import CreateRequest, EgressRequest

EgressArg = Union[Egress, EgressRequest, Mapping[str, Any], None]
VolumeArg = calls.VolumeArg


class SandboxFields(SandboxInfo):
    """A sandbox's fields as the server last said, updated by the calls that change it."""

    keep: bool
    """Leave the sandbox running when a ``with`` block ends (destroyed otherwise)."""

    def _set(self, info: SandboxInfo) -> None:
        for f in dataclasses.fields(SandboxInfo):
            setattr(self, f.name, getattr(info, f.name))

    def _set_json(self, data: Any) -> None:
        self._set(decode(SandboxInfo, data))

    @property
    def ref(self) -> str:
        """What calls name the sandbox by: its ID (or, for a handle, what it was given)."""
        return self.id or self.name

    def url(self, port: int) -> Optional[str]:
        """The dev-server URL of an exposed port, or None."""
        found = next((u for u in self.urls if u.port == port), None)
        return found.url if isinstance(found, PortURL) else None

    def info(self) -> SandboxInfo:
        """The fields alone, as a plain dataclass."""
        return SandboxInfo(**{f.name: getattr(self, f.name) for f in dataclasses.fields(SandboxInfo)})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, name={self.name!r}, state={self.state!r})"


def handle_info(ref: str) -> SandboxInfo:
    """The fields of a handle that knows only its ID or name."""
    return SandboxInfo(id=ref)


def create_request(template: Optional[str] = None, *, name: Optional[str] = None, vcpus: Optional[int] = None,
                   memory_mb: Optional[int] = None, env: Optional[Mapping[str, str]] = None,
                   metadata: Optional[Mapping[str, str]] = None, idle_timeout: Optional[int] = None,
                   public: Optional[bool] = None, ports: Optional[Sequence[int]] = None,
                   password: Optional[str] = None, egress: EgressArg = None, disk: Optional[str] = None,
                   auto_start: Optional[bool] = None, labels: Optional[Mapping[str, str]] = None,
                   timeout: Optional[int] = None, on_timeout: Optional[str] = None,
               volumes: Optional[Sequence[VolumeArg]] = None) -> CreateRequest:
    """The body of a create from its keyword arguments (see Sandbox.create)."""
    return calls.create_request(name, template, vcpus, memory_mb, env, metadata, idle_timeout, public,
                                ports, password, egress, disk, auto_start, labels, timeout, on_timeout, volumes)

