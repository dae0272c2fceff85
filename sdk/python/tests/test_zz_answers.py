"""The answers against api/openapi.yaml: every field of every JSON answer
the tests before this one got, from the real server (and from the unit
tests' fakes, which keeps them honest), is declared in the spec. The SDK's
dataclasses drop fields they do not know, so a field the spec lacks would
otherwise go unseen. Named to run last."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from .conftest import ANSWERS
from .test_openapi import resolve, spec  # noqa: F401 - the spec fixture

_ = spec


def undeclared(spec: Dict[str, Any], schema: Any, value: Any, where: str) -> List[str]:
    """The fields of value that schema does not declare, as paths."""
    schema = resolve(spec, schema)
    if not isinstance(schema, dict):
        return []
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [d for v in value for d in undeclared(spec, schema["items"], v, where + "[]")]
    if not isinstance(value, dict) or "properties" not in schema:
        return []
    out = []
    for k, v in value.items():
        if k not in schema["properties"]:
            out.append(f"{where}.{k}")
        else:
            out += undeclared(spec, schema["properties"][k], v, f"{where}.{k}")
    return out


def test_every_answer_field_is_in_the_spec(spec: Dict[str, Any]) -> None:  # noqa: F811
    if not ANSWERS:
        pytest.skip("no answer from a server was recorded")
    missing = set()
    for method, path, status, body in ANSWERS:
        op = spec["paths"].get(path, {}).get(method.lower())
        if op is None:
            continue  # a route the spec lacks is test_openapi.py's to report
        answer = op.get("responses", {}).get(str(status), {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            if body is not None:
                missing.add(f"{method} {path} {status}: no JSON schema for an answer with a body")
            continue
        missing.update(f"{method} {path} {status}: {d}" for d in undeclared(spec, schema, body, "answer"))
    assert sorted(missing) == []
