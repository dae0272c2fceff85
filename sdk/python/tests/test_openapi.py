"""The SDK against the wire's one description, api/openapi.yaml.

Every wire dataclass (models.WIRE_SCHEMAS) and request TypedDict
(requests.WIRE_SCHEMAS) has the fields of its spec schema, no more, no
fewer, of the same JSON types; every route the SDK calls is an operation
of the spec, and every operation of the spec is called or listed below as
not for this SDK. The code interpreter is not in the spec yet: its types
and routes are checked as soon as they appear there.
"""

from __future__ import annotations

import dataclasses
import os
import typing
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from runtools import code, models, requests, routes
from runtools._wire import _hints, wire_fields

yaml = pytest.importorskip("yaml")

SPEC = Path(os.environ.get("RUNTOOLS_OPENAPI", Path(__file__).resolve().parents[3] / "api" / "openapi.yaml"))

# Operations of the spec this SDK does not call, and why.
NOT_FOR_THE_SDK = {
    ("GET", "/metrics"): "Prometheus scrapes it",
    ("GET", "/v1/sandboxes/{ref}/exec/attach"): "a WebSocket: httpx has none; exec with stdin= and start(stdin_open=True) cover input",
    ("GET", "/v1/sandboxes/{ref}/terminal"): "a WebSocket for the dashboard's terminal",
    ("GET", "/v1/sandboxes/{ref}/vnc"): "a WebSocket of RFB bytes for the dashboard's desktop",
    ("POST", "/mcp"): "the MCP server, for MCP clients (Claude, Cursor, ...), not an SDK call",
    ("GET", "/mcp"): "the MCP server's stream (stateless here: 405)",
    ("DELETE", "/mcp"): "the MCP server's session end (stateless here: 405)",
}


@pytest.fixture(scope="module")
def spec() -> Dict[str, Any]:
    if not SPEC.exists():
        if os.environ.get("RUNTOOLS_SDK_REQUIRE_SERVER") == "1":
            pytest.fail(f"{SPEC} is missing: set RUNTOOLS_OPENAPI to api/openapi.yaml")
        pytest.skip(f"{SPEC} is missing (the tests run outside the repository)")
    loaded: Dict[str, Any] = yaml.safe_load(SPEC.read_text())
    return loaded


def resolve(spec: Dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def at(spec: Dict[str, Any], path: Tuple[str, ...]) -> Any:
    node: Any = spec
    for key in path:
        node = resolve(spec, node)
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return resolve(spec, node)


def json_type(tp: Any) -> Optional[str]:
    """The JSON type a Python annotation stands for (None: any)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        return json_type(next(a for a in args if a is not type(None)))
    if origin in (list, List) or tp is list:
        return "array"
    if origin in (dict, Dict) or tp is dict or dataclasses.is_dataclass(tp) or hasattr(tp, "__total__"):
        return "object"
    return {str: "string", datetime: "string", int: "integer", float: "number", bool: "boolean"}.get(tp)


def compare(spec: Dict[str, Any], name: str, schema: Any, fields: Dict[str, Any]) -> List[str]:
    """Differences between a schema's properties and a type's fields (JSON name -> annotation)."""
    if not isinstance(schema, dict) or "properties" not in schema:
        return [f"{name}: no object schema in the spec"]
    props = schema["properties"]
    diffs = [f"{name}.{f}: the SDK has it, the spec does not" for f in fields if f not in props]
    diffs += [f"{name}.{p}: the spec has it, the SDK does not" for p in props if p not in fields]
    for f, tp in fields.items():
        want, got = resolve(spec, props.get(f, {})).get("type"), json_type(tp)
        if f in props and want and got and want != got:
            diffs.append(f"{name}.{f}: the spec says {want}, the SDK {got}")
    return diffs


def dataclass_fields(cls: type) -> Dict[str, Any]:
    hints = _hints(cls)
    return {wire: hints[f.name] for wire, f in wire_fields(cls).items()}


def test_wire_dataclasses_match_the_spec(spec: Dict[str, Any]) -> None:
    diffs: List[str] = []
    for cls, path in models.WIRE_SCHEMAS.items():
        diffs += compare(spec, cls.__name__, at(spec, path), dataclass_fields(cls))
    assert diffs == []


def test_request_bodies_match_the_spec(spec: Dict[str, Any]) -> None:
    diffs: List[str] = []
    for cls, path in requests.WIRE_SCHEMAS.items():
        diffs += compare(spec, cls.__name__, at(spec, path), typing.get_type_hints(cls))
    assert diffs == []


def test_code_interpreter_types_match_the_spec_once_there(spec: Dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    diffs: List[str] = []
    pending = [name for name in code.PENDING_SCHEMAS.values() if name not in schemas]
    if pending:
        warnings.warn(f"api/openapi.yaml has no {', '.join(pending)} schemas yet (the code interpreter lands on main later)")
    for cls, name in code.PENDING_SCHEMAS.items():
        if name in schemas:
            diffs += compare(spec, name, resolve(spec, schemas[name]), dataclass_fields(cls))
    if "RunCodeRequest" in schemas:
        diffs += compare(spec, "RunCodeRequest", schemas["RunCodeRequest"], {f: None for f in code.RUN_CODE_FIELDS})
    assert diffs == []


def test_every_route_is_in_the_spec(spec: Dict[str, Any]) -> None:
    missing = [f"{r.method} {r.path}" for r in routes.all_routes()
               if r.method.lower() not in spec["paths"].get(r.path, {}) and r not in routes.CODE_ROUTES]
    assert missing == []
    pending = [f"{r.method} {r.path}" for r in routes.CODE_ROUTES if r.method.lower() not in spec["paths"].get(r.path, {})]
    if pending:
        warnings.warn(f"api/openapi.yaml has no {', '.join(pending)} yet (the code interpreter)")


def test_every_operation_is_called(spec: Dict[str, Any]) -> None:
    called = {(r.method, r.path) for r in routes.all_routes()}
    methods = ("get", "post", "put", "patch", "delete")
    ops = {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in methods}
    assert sorted(ops - called - set(NOT_FOR_THE_SDK)) == []
    assert sorted(set(NOT_FOR_THE_SDK) - ops) == [], "a listed omission is no longer in the spec"


def test_the_check_finds_drift(spec: Dict[str, Any]) -> None:
    @dataclasses.dataclass
    class Point:
        x: int = 0
        y: str = ""
        w: int = 0

    diffs = compare(spec, "Point", at(spec, ("components", "schemas", "Point")), dataclass_fields(Point))
    assert sorted(diffs) == ["Point.w: the SDK has it, the spec does not", "Point.y: the spec says integer, the SDK string"]
