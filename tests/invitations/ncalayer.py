"""A stand-in NCALayer for the browser tests: a WebSocket server on 127.0.0.1 that speaks
NCALayer's message format (see service/static/sign.js for the shapes) and signs with the test
PKI's keys (RSA, and GOST 34.10-2015 from tests/signing/gost_pki.py), producing real CMS
SignedData.

`behaviour` says what the "user" does when asked: sign with `credential`, cancel, or play an
NCALayer without the basics module (then only the older commonUtils call signs). Every request
it receives is kept in `requests`, so a test can check what the page asked for.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from signing.client import Credential, create_cms
from tests.conftest import NOW
from tests.signing.gost_pki import GostCredential, sign_cms

BASICS = "kz.gov.pki.knca.basics"
COMMON_UTILS = "kz.gov.pki.knca.commonUtils"


@dataclass
class FakeNcaLayer:
    port: int
    credential: Credential | GostCredential | None = None
    behaviour: str = "sign"  # sign | cancel | old (no basics module)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self._server = serve(self._talk, "127.0.0.1", self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def _sign(self, content_base64: str) -> str:
        assert self.credential is not None
        content = base64.b64decode(content_base64)
        if isinstance(self.credential, GostCredential):  # a GOST 34.10-2015 key, as NCA's
            cms = sign_cms(content, self.credential, NOW)
        else:
            cms = create_cms(content, self.credential, signing_time=NOW)
        return base64.b64encode(cms).decode("ascii")

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        module = request.get("module")
        if module == BASICS:
            if self.behaviour == "old":
                return {"code": "500", "message": "Module kz.gov.pki.knca.basics not found"}
            if self.behaviour == "cancel":
                return {"status": True, "body": {}}
            return {"status": True, "body": {"result": [self._sign(request["args"]["data"])]}}
        if module == COMMON_UTILS and request.get("method") == "createCMSSignatureFromBase64":
            if self.behaviour == "cancel":
                return {"code": "500", "message": "action.canceled"}
            storage, alias, data, attached = request["args"]
            assert (storage, alias, attached) == ("PKCS12", "SIGNATURE", False)
            return {"code": "200", "responseObject": self._sign(data)}
        return {"status": False, "code": "500", "details": f"unknown module {module!r}"}

    def _talk(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"result": {"version": "1.4"}}))
        try:
            for message in connection:
                request = json.loads(message)
                self.requests.append(request)
                connection.send(json.dumps(self._answer(request)))
        except ConnectionClosed:
            pass
