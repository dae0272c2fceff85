"""Turning JSON answers into the dataclasses of models.py and back.

A dataclass field is named as its wire field, unless its metadata says
``wire`` (for names Python reserves, such as ``from``); fields whose
metadata says ``local`` are the SDK's own and not on the wire.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import typing
from datetime import datetime, timezone
from typing import Any, Dict, Type, TypeVar

T = TypeVar("T")

_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str) -> datetime:
    """An RFC 3339 time as the server writes it (nanoseconds, Z) as an aware datetime."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def wire_name(f: "dataclasses.Field[Any]") -> str:
    """The JSON name of a dataclass field."""
    return str(f.metadata.get("wire", f.name))


def wire_fields(cls: type) -> Dict[str, "dataclasses.Field[Any]"]:
    """A dataclass's wire fields by their JSON names."""
    return {wire_name(f): f for f in dataclasses.fields(cls) if not f.metadata.get("local")}


_HINTS: Dict[type, Dict[str, Any]] = {}


def _hints(cls: type) -> Dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    return hints


def decode(cls: Type[T], data: Any) -> T:
    """The dataclass cls from a JSON object; missing fields keep their defaults, unknown ones are dropped."""
    if not isinstance(data, dict):
        data = {}
    hints = _hints(cls)
    kwargs = {}
    for name, f in wire_fields(cls).items():
        value = data.get(name)
        if value is not None and f.init:
            kwargs[f.name] = _convert(hints[f.name], value)
    return cls(**kwargs)


def _convert(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union:
        return _convert(next(a for a in args if a is not type(None)), value)
    if origin in (list, typing.List) and isinstance(value, list):
        return [_convert(args[0], v) for v in value] if args else value
    if origin in (dict, typing.Dict) and isinstance(value, dict):
        return {k: _convert(args[1], v) for k, v in value.items()} if args else value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return decode(tp, value)
    if tp is datetime and isinstance(value, str):
        return parse_time(value)
    if tp is float and isinstance(value, (int, float)):
        return float(value)
    return value


def encode(value: Any) -> Any:
    """JSON for a request: dataclasses by their wire names, None values left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for name, f in wire_fields(type(value)).items():
            v = getattr(value, f.name)
            if v is not None:
                out[name] = encode(v)
        return out
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def items(data: Any, field: str) -> "list[Any]":
    """The list a JSON answer holds under field (empty when it holds none)."""
    if isinstance(data, dict) and isinstance(data.get(field), list):
        return list(data[field])
    return []
