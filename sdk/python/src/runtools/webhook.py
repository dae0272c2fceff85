"""Verifying webhook deliveries.

Each delivery carries ``Runtools-Signature: t=UNIX,v1=HEX``, HEX the
HMAC-SHA256 (keyed with the webhook's secret) of ``UNIX.BODY``. It is
checked over the raw body, before parsing, and the timestamp must be
recent, so an old delivery cannot be replayed. ``Runtools-Event-Id`` (also
the event's ``id``) is the same on every retry: drop one already handled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import List, Optional, Union

from ._wire import decode
from .errors import Unauthorized
from .models import WebhookEvent

SIGNATURE_HEADER = "Runtools-Signature"
EVENT_ID_HEADER = "Runtools-Event-Id"


def verify_webhook(secret: str, signature: Optional[str], body: Union[bytes, str],
                   tolerance: float = 300, now: Optional[float] = None) -> WebhookEvent:
    """Checks a delivery's signature header over its raw body and returns its event.

    Raises :class:`runtools.Unauthorized` (code ``unauthenticated``) if the
    signature does not match, or was made more than ``tolerance`` seconds
    from ``now`` (default: the current time).
    """
    raw = body.encode() if isinstance(body, str) else body
    ts, sigs = "", []  # type: str, List[str]
    for part in (signature or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            ts = value
        elif key == "v1":
            sigs.append(value)
    if not ts.isdigit() or not sigs:
        raise Unauthorized("webhook: the signature header is not t=UNIX,v1=HEX", code="unauthenticated")
    if abs((time.time() if now is None else now) - int(ts)) > tolerance:
        raise Unauthorized("webhook: the signature is too old (a replay?)", code="unauthenticated")
    want = hmac.new(secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(s, want) for s in sigs):
        raise Unauthorized("webhook: the signature does not match", code="unauthenticated")
    return decode(WebhookEvent, json.loads(raw))
