"""Headless Chromium signs a protocol through its invitation link, against a stand-in NCALayer.

The app runs as a real HTTP server (werkzeug, threaded, SQLite) trusting the test PKI, its
page pointed at the stand-in NCALayer (tests/invitations/ncalayer.py: a WebSocket server on
127.0.0.1 that signs with the test PKI's keys). Chromium (Debian's, never downloaded) is
driven over the DevTools protocol: open the link, click "Sign with NCALayer", read what the
page says. Screenshots stay in test-artifacts/browser/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from websockets.sync.client import ClientConnection, connect
from werkzeug.serving import BaseWSGIServer, make_server

from service import create_app
from service.core.config import Settings
from tests.conftest import NOW, ROOT, fixed_clock, new_token
from tests.databases import sqlite_backend
from tests.invitations.ncalayer import FakeNcaLayer
from tests.servers import free_port
from tests.signatures.support import (
    CHAIR,
    PRESENT,
    SECRETARY,
    SigningPKI,
    create_commission,
    create_protocol,
    signing_pki,
)
from tests.signing.gost_pki import GostPKI
from tests.verification.test_verify_browser import chromium

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts" / "browser"
SIGNERS = [*PRESENT, SECRETARY]
WAIT_SECONDS = 60


@pytest.fixture(scope="module")
def ncalayer() -> Iterator[FakeNcaLayer]:
    fake = FakeNcaLayer(free_port())
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def gost_pki() -> GostPKI:
    return GostPKI.create(NOW)


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, signing_pki: SigningPKI, gost_pki: GostPKI,
    ncalayer: FakeNcaLayer,
) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("signing-browser")
    trust = folder / "trust"  # the RSA test PKI and the GOST root and CA with their CRLs
    shutil.copytree(signing_pki.directory, trust)
    (trust / "gost-root.cer").write_bytes(gost_pki.root.der)
    (trust / "gost-ca.cer").write_bytes(gost_pki.ca.der)
    root_crl, ca_crl = gost_pki.crls()
    (trust / "gost-root.crl").write_bytes(root_crl)
    (trust / "gost-ca.crl").write_bytes(ca_crl)

    (folder / "live").mkdir()
    with sqlite_backend(folder) as backend:
        settings = Settings(data_dir=folder, database_url=backend.fresh_url(folder / "live"),
                            trust_dir=trust, ncalayer_url=ncalayer.url,
                            verify_rate_limit="1000 per minute")
        app: Flask = create_app(settings, clock=fixed_clock)
        server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        client: FlaskClient = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, 'KRG')}"
        protocol = create_protocol(client, create_commission(client))
        answer = client.post(f"/api/v1/documents/{protocol['id']}/invitations")
        assert answer.status_code == 201, answer.get_json()
        links = {item["iin"]: item["url"].rsplit("/", 1)[1]
                 for item in answer.get_json()["invitations"]}
        try:
            yield {"url": f"http://127.0.0.1:{server.server_port}", "links": links,
                   "client": client, "protocol": protocol}
        finally:
            server.shutdown()
            thread.join(timeout=10)
            app.extensions["qujat.database"].dispose()


class Browser:
    """Headless Chromium and one of its pages, over the DevTools protocol."""

    def __init__(self, profile: Path) -> None:
        self.process = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "--window-size=1000,1400", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        active = profile / "DevToolsActivePort"
        port = _poll(lambda: (active.exists() and active.read_text().split("\n")[0]) or None)
        pages = _poll(lambda: [t for t in requests.get(
            f"http://127.0.0.1:{port}/json/list", timeout=10).json() if t["type"] == "page"])
        self._stack = contextlib.ExitStack()
        self.socket: ClientConnection = self._stack.enter_context(
            connect(pages[0]["webSocketDebuggerUrl"], max_size=None))
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=WAIT_SECONDS))
            if message.get("id") == number:
                assert "error" not in message, message
                found: dict[str, Any] = message.get("result", {})
                return found

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        _poll(lambda: self.evaluate(
            "document.readyState === 'complete' && !!document.getElementById('sign') "
            "&& !document.getElementById('sign').hidden"))

    def click_sign_and_wait(self) -> dict[str, str]:
        self.evaluate("document.getElementById('sign').click()")
        found: dict[str, str] = _poll(lambda: self.evaluate(
            "(function(){var r=document.getElementById('result');"
            "return r.dataset.status ? {status: r.dataset.status, codes: r.dataset.codes || '',"
            " text: r.textContent} : null;})()"))
        return found

    def screenshot(self, name: str) -> None:
        import base64

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = self.call("Page.captureScreenshot", format="png")
        (ARTIFACTS / name).write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self._stack.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def _poll(probe: Any, seconds: float = WAIT_SECONDS) -> Any:
    """Ask `probe` until it answers something true, up to a deadline."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, "the browser did not get there in time"
        time.sleep(0.1)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(tmp_path / "profile")
    yield opened
    opened.close()


def test_a_member_signs_in_kazakh_and_the_last_one_sees_the_protocol_signed(
    live: dict[str, Any], ncalayer: FakeNcaLayer, signing_pki: SigningPKI, browser: Browser
) -> None:
    links = live["links"]
    ncalayer.behaviour = "sign"
    ncalayer.credential = signing_pki.key(CHAIR)
    browser.open(f"{live['url']}/sign/{links[CHAIR]}")
    assert browser.evaluate("document.documentElement.lang") == "kk"
    answer = browser.click_sign_and_wait()
    browser.screenshot("sign-accepted-kk.png")
    assert answer["status"] == "awaiting_signatures", answer
    assert answer["text"] == "Қолтаңбаңыз қабылданды. Рахмет!"
    asked = ncalayer.requests[-1]
    assert asked["module"] == "kz.gov.pki.knca.basics"
    assert asked["method"] == "sign"
    assert asked["args"]["format"] == "cms"
    assert asked["args"]["signingParams"]["encapsulate"] is False
    assert asked["args"]["signerParams"]["iin"] == CHAIR
    assert asked["args"]["signerParams"]["extKeyUsageOids"] == ["1.3.6.1.5.5.7.3.4"]
    # the others sign through the API's links as well; the secretary is last, in Russian
    for iin in SIGNERS[1:-1]:
        ncalayer.credential = signing_pki.key(iin)
        browser.open(f"{live['url']}/sign/{links[iin]}")
        assert browser.click_sign_and_wait()["status"] == "awaiting_signatures"
    ncalayer.credential = signing_pki.key(SECRETARY)
    browser.open(f"{live['url']}/sign/{links[SECRETARY]}?lang=ru")
    answer = browser.click_sign_and_wait()
    browser.screenshot("sign-protocol-signed-ru.png")
    assert answer["status"] == "signed", answer
    assert "протокол подписан" in answer["text"]
    assert browser.evaluate("document.querySelectorAll('#signers li.missing').length") == 0
    browser.call("Page.navigate", url=f"{live['url']}/sign/{links[CHAIR]}")
    used = _poll(lambda: browser.evaluate(
        "(function(){var e=document.getElementById('unusable');"
        "return e ? e.dataset.reason : null;})()"))
    assert used == "used"


def _new_link(live: dict[str, Any], iin: str) -> str:
    """A fresh link for `iin` on a protocol of its own (the first one gets signed)."""
    client: FlaskClient = live["client"]
    commission = create_commission(client)
    protocol = create_protocol(client, commission,
                               decision_id=f"browser-{iin}-{time.monotonic_ns()}")
    answer = client.post(f"/api/v1/documents/{protocol['id']}/invitations",
                         json={"signers": [{"iin": iin}]})
    assert answer.status_code == 201, answer.get_json()
    url: str = answer.get_json()["invitations"][0]["url"]
    return url.rsplit("/", 1)[1]


@pytest.mark.parametrize(("language", "key", "behaviour", "status", "words"), [
    ("kk", "other", "sign", "refused", "басқа адам"),
    ("ru", "other", "sign", "refused", "другим лицом"),
    ("ru", "auth", "sign", "refused", "аутентификации"),
    ("kk", "own", "cancel", "cancelled", "тоқтатылды"),
    ("ru", "own", "cancel", "cancelled", "отменено"),
    ("ru", "own", "old", "awaiting_signatures", "Ваша подпись принята"),
])
def test_refusals_and_ncalayer_answers_are_said_in_words(
    live: dict[str, Any], ncalayer: FakeNcaLayer, signing_pki: SigningPKI, browser: Browser,
    language: str, key: str, behaviour: str, status: str, words: str,
) -> None:
    member = PRESENT[1]
    token = _new_link(live, member)
    ncalayer.behaviour = behaviour
    ncalayer.credential = {"other": signing_pki.key(PRESENT[2]),
                           "auth": signing_pki.key(member, "auth"),
                           "own": signing_pki.key(member)}[key]
    browser.open(f"{live['url']}/sign/{token}?lang={language}")
    answer = browser.click_sign_and_wait()
    browser.screenshot(f"sign-{key}-{behaviour}-{language}.png")
    assert answer["status"] == status, answer
    assert words in answer["text"], answer
    if behaviour == "old":
        assert ncalayer.requests[-1]["module"] == "kz.gov.pki.knca.commonUtils"


def test_a_member_signs_with_a_gost_key(
    live: dict[str, Any], ncalayer: FakeNcaLayer, signing_pki: SigningPKI, gost_pki: GostPKI,
    browser: Browser,
) -> None:
    member = PRESENT[2]
    token = _new_link(live, member)
    ncalayer.behaviour = "sign"
    ncalayer.credential = gost_pki.credential(
        member, signing_pki.pki.people[member].person.common_name)
    browser.open(f"{live['url']}/sign/{token}")
    answer = browser.click_sign_and_wait()
    browser.screenshot("sign-gost-kk.png")
    assert answer["status"] == "awaiting_signatures", answer


def test_used_and_unknown_links_say_so(live: dict[str, Any], browser: Browser) -> None:
    for token, reason in (("A" * 43, "unknown"),):
        for language in ("kk", "ru"):
            browser.call("Page.navigate", url=f"{live['url']}/sign/{token}?lang={language}")
            found = _poll(lambda: browser.evaluate(
                "(function(){var e=document.getElementById('unusable');"
                "return e ? [e.dataset.reason, e.textContent] : null;})()"))
            assert found[0] == reason
            assert ("сілтеме жоқ" if language == "kk" else "ссылки нет") in found[1]


def test_without_javascript_the_page_says_what_is_needed(
    live: dict[str, Any], browser: Browser
) -> None:
    token = _new_link(live, PRESENT[3])
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    for language, words in (("kk", "JavaScript қосулы болуы"),
                            ("ru", "должен быть включён JavaScript")):
        browser.call("Page.navigate", url=f"{live['url']}/sign/{token}?lang={language}")
        shown = _poll(lambda: browser.evaluate(
            "document.readyState === 'complete' && document.body.innerText"))
        browser.screenshot(f"sign-no-javascript-{language}.png")
        assert words in shown
        assert "NCALayer" in shown
        # the button stays hidden: without the script it could do nothing
        assert browser.evaluate("document.getElementById('sign').hidden") is True


def test_ncalayer_not_running(
    live: dict[str, Any], ncalayer: FakeNcaLayer, browser: Browser
) -> None:
    token = _new_link(live, PRESENT[4])
    ncalayer.stop()
    try:
        for language, words in (("kk", "NCALayer іске қосылмаған"),
                                ("ru", "NCALayer не запущен")):
            browser.open(f"{live['url']}/sign/{token}?lang={language}")
            answer = browser.click_sign_and_wait()
            browser.screenshot(f"sign-no-ncalayer-{language}.png")
            assert answer["status"] == "ncalayer_absent", answer
            assert words in answer["text"]
    finally:
        ncalayer.start()
