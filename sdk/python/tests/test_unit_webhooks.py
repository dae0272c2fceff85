"""Webhooks: the calls on the wire, and verify_webhook against the known
answer the Go and TypeScript tests also check (api/wire/webhook_test.go)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from runtools import Unauthorized, verify_webhook

from .mock import FakeServer

BODY = ('{"id":"evt_1","type":"created","created_at":"2026-03-01T12:00:00Z","team":"team-a",'
        '"sandbox":{"id":"sandbox-abc","name":"web","template":"base","state":"running","labels":{"app":"web"}},'
        '"data":{"from":"creating","to":"running","reason":"created"}}')
SIG = "t=1800000000,v1=0b7e639c2189b721f988211e47f6d6e94e0b9ee3e82f45ac2e7927dbec43924e"
AT = 1_800_000_000


def test_a_signed_delivery_verifies_and_decodes() -> None:
    ev = verify_webhook("whsec_x", SIG, BODY.encode(), now=AT + 60)
    assert ev.id == "evt_1" and ev.type == "created" and ev.team == "team-a"
    assert ev.sandbox is not None and ev.sandbox.labels == {"app": "web"}
    assert ev.data["reason"] == "created" and ev.created_at is not None


@pytest.mark.parametrize("secret,header,body,now", [
    ("whsec_x", SIG, BODY.replace("web", "wab"), AT),
    ("whsec_y", SIG, BODY, AT),
    ("whsec_x", SIG, BODY, AT + 301),
    ("whsec_x", "t=1800000000", BODY, AT),
    ("whsec_x", None, BODY, AT),
])
def test_forged_old_or_malformed_deliveries_are_refused(secret: str, header: str, body: str, now: int) -> None:
    with pytest.raises(Unauthorized):
        verify_webhook(secret, header, body, now=now)


def test_webhook_calls() -> None:
    srv = FakeServer()
    hook = {"id": "wh_1", "url": "https://example.com/h", "events": ["created"], "created_at": "2026-03-01T12:00:00Z"}
    srv.json("POST", "/v1/webhooks", {**hook, "secret": "whsec_1"}, 201)
    srv.json("GET", "/v1/webhooks", {"webhooks": [hook]})
    srv.on("DELETE", "/v1/webhooks/wh_1", lambda r: httpx.Response(204))
    srv.json("GET", "/v1/webhooks/wh_1/deliveries", {"deliveries": [
        {"id": "dlv_1", "event_id": "evt_1", "type": "created", "state": "pending", "last_status": 500,
         "next_attempt_at": "2026-03-01T12:01:00Z", "attempts": [{"n": 1, "status": 500, "error": "boom", "duration_ms": 12}]}]})
    c = srv.client()
    h = c.create_webhook("https://example.com/h", events=["created"])
    assert h.secret == "whsec_1" and srv.body() == {"url": "https://example.com/h", "events": ["created"]}
    assert [w.id for w in c.webhooks()] == ["wh_1"]
    (d,) = c.webhook_deliveries("wh_1", limit=5)
    assert srv.requests[-1].url.params["limit"] == "5"
    assert d.state == "pending" and d.attempts[0].status == 500 and d.attempts[0].duration_ms == 12
    c.remove_webhook("wh_1")
    ac = srv.async_client()
    assert asyncio.run(ac.create_webhook("https://example.com/h")).secret == "whsec_1"
    assert srv.body() == {"url": "https://example.com/h"}
