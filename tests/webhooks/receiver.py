"""A real HTTP receiver for webhooks on 127.0.0.1, scripted per request.

Each request is recorded (headers and body) before it is answered. `answers` is a list of
what to do with the next requests, in turn, then `default`: an int is a status to answer,
"hold" keeps the request unanswered until `release()` (a timeout for the sender, a server
killed mid-delivery). `stop()` and `start()` again take it down and bring it back on the
same port.
"""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    answers: list[int | str] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None
    _released: threading.Event = field(default_factory=threading.Event)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/qujat"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver._arrived:
                    receiver.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body))
                    answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                    receiver._arrived.notify_all()
                if answer == "hold":
                    receiver._released.wait(60)
                    answer = 200
                assert isinstance(answer, int)
                self.send_response(answer)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._released.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def wait_for(self, count: int, deadline: float = 60.0) -> None:
        """Until `count` requests have arrived (fails after `deadline` seconds)."""
        end = time.monotonic() + deadline
        with self._arrived:
            while len(self.received) < count:
                left = end - time.monotonic()
                assert left > 0, f"{len(self.received)} of {count} requests arrived"
                self._arrived.wait(left)
