"""A webhook receiver for trying qujat's webhooks: checks each POST's Standard Webhooks
signature with the endpoint's secret, prints one line per event, and answers 204 (401 to a
forged or stale one). Standard library only, so that it runs anywhere Python does; a platform's
own receiver does the same checks (docs/webhooks.md).

    python3 examples/webhook_receiver.py --port 8025 --secret whsec_…

Each accepted event is printed as `<type> <registration number or batch id> <webhook-id>`,
flushed at once.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60
MAX_BODY = 1024 * 1024


def expected_signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verified(secret: str, headers: dict[str, str], body: bytes, now: float) -> bool:
    """The body is what qujat sent: a `v1,` signature matches and the timestamp is recent."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not webhook_id or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    wanted = expected_signature(secret, webhook_id, timestamp, body)
    given = [part.removeprefix("v1,") for part in headers.get("webhook-signature", "").split()
             if part.startswith("v1,")]
    return any(hmac.compare_digest(wanted, signature) for signature in given)


def handler(secret: str) -> type[BaseHTTPRequestHandler]:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.send_response(413)
                self.end_headers()
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            if not verified(secret, headers, body, time.time()):
                print("refused: bad or stale signature", flush=True)
                self.send_response(401)
                self.end_headers()
                return
            event = json.loads(body)
            data = event.get("data", {})
            subject = data.get("registration_number") or data.get("batch") or "-"
            print(f"{event['type']} {subject} {headers['webhook-id']}", flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per event is printed above; no access log

    return Receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--secret", required=True, help="the whsec_… shown at registration")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler(args.secret))
    print(f"receiving on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
