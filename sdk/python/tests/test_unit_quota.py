"""Quotas: the error a quota refused a request with carries which limit and what to do,
and the team calls send only the limits given."""

from __future__ import annotations

import json

import runtools
from runtools import _calls as calls
from runtools import routes
from runtools.errors import error_from_answer


def test_a_quota_error_says_which_limit() -> None:
    body = {"error": {"code": "resource_exhausted", "message": "quota exceeded: running sandboxes: 2 of 2 in use",
                      "quota": {"name": "sandboxes", "unit": "sandboxes", "used": 2, "limit": 2, "requested": 1,
                                "hint": "pause, stop or destroy a sandbox"}}}
    err = error_from_answer(429, json.dumps(body).encode())
    assert isinstance(err, runtools.ResourceExhausted) and err.status == 429
    assert err.quota == runtools.Quota(name="sandboxes", unit="sandboxes", used=2, limit=2, requested=1,
                                       hint="pause, stop or destroy a sandbox")
    disk = error_from_answer(403, b'{"error": {"code": "resource_exhausted", "message": "m", '
                                  b'"quota": {"name": "disk_bytes", "unit": "bytes", "used": 5, "limit": 4}}}')
    assert isinstance(disk, runtools.ResourceExhausted) and disk.quota is not None and disk.quota.requested is None
    assert error_from_answer(404, b'{"error": {"code": "not_found", "message": "m"}}').quota is None


def test_update_team_sends_only_the_limits_given() -> None:
    call = calls.update_team("acme", {"max_sandboxes": 2, "max_vcpus": None, "max_memory_mb": 0, "max_builds": -1})
    assert call.route is routes.update_team
    assert call.json == {"max_sandboxes": 2, "max_memory_mb": 0, "max_builds": -1}
