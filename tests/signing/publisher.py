"""A publisher of revocation data on 127.0.0.1 for the revocation tests."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Publisher:
    """An HTTP server on 127.0.0.1: GET serves the files of `folder` (with If-Modified-Since),
    POST /ocsp answers with `ocsp(request_der)`. `stop()` takes it down (a CA outage)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ocsp: Callable[[bytes], bytes] | None = None
        self.requests: list[str] = []
        publisher = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                publisher.requests.append(f"GET {self.path}")
                super().do_GET()

            def do_POST(self) -> None:
                publisher.requests.append(f"POST {self.path}")
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.path != "/ocsp" or publisher.ocsp is None:
                    self.send_error(404)
                    return
                answer = publisher.ocsp(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        handler = functools.partial(Handler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
            self.running = False
