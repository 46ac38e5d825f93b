"""examples/webhook_receiver.py, the receiver the README's walk-through uses, agrees with the
`standardwebhooks` package: what that library signs it accepts, a changed byte, another
secret or a stale timestamp it refuses."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import secrets
from pathlib import Path
from types import ModuleType

from standardwebhooks.webhooks import Webhook

ROOT = Path(__file__).resolve().parents[2]


def receiver() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "webhook_receiver", ROOT / "examples" / "webhook_receiver.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_receiver_checks_signatures_as_the_library_makes_them() -> None:
    module = receiver()
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    body = b'{"type": "document.signed", "data": {"registration_number": "02-KRG-26-000001-06"}}'
    when = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    signature = Webhook(secret).sign("msg_1", when, body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(when.timestamp())),
               "webhook-signature": signature}
    now = when.timestamp() + 10
    assert module.verified(secret, headers, body, now)
    assert not module.verified(secret, headers, body.replace(b"signed", b"issued"), now)
    other = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    assert not module.verified(other, headers, body, now)
    assert not module.verified(secret, headers, body, now + 3600)  # replayed an hour later
    assert not module.verified(secret, {**headers, "webhook-timestamp": "soon"}, body, now)
