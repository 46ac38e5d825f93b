"""Headless Chromium loads the verify page, in Kazakh and in Russian, for every status.

A real server (`qujat serve`, gunicorn, SQLite) trusting a test PKI (`qujat pki init`), with
an unsigned certificate (awaiting signatures), a certificate its head signed (`qujat sign`,
a real CMS: valid), and signed ones then revoked or superseded; Chromium (Debian's
`chromium`, never downloaded) renders each page with --dump-dom and --screenshot. The status
is read from the rendered DOM; the screenshots stay in test-artifacts/browser/ (gitignored)
for a human to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from service.forms.decisions import ALMATY
from service.registry.issuing import RegistrationNumber, parse_registration_number
from tests.conftest import ROOT, load_example
from tests.servers import create_token, qujat, running

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
HEAD = "700101300342"  # examples/certificate.kk.json
ORG_KK = "Қарағанды облысының білім басқармасы"
ORG_RU = "Управление образования Карагандинской области"
EXPECTED = {
    ("valid", "kk"): "Жарамды",
    ("valid", "ru"): "Действителен",
    ("awaiting_signatures", "kk"): "Қол қою күтілуде",
    ("awaiting_signatures", "ru"): "Ожидает подписи",
    ("revoked", "kk"): "Күші жойылған",
    ("revoked", "ru"): "Отозван",
    ("superseded", "kk"): "Ауыстырылған",
    ("superseded", "ru"): "Заменён",
    ("not_issued", "kk"): "Берілмеген",
    ("not_issued", "ru"): "Не выдавался",
    ("mistyped", "kk"): "Нөмір қате терілген",
    ("mistyped", "ru"): "Номер набран с ошибкой",
}


def chromium() -> str:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is missing: CI must run the browser tests", pytrace=False)
        pytest.skip("chromium is not installed (scripts/setup --dev installs it)")
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


def render(browser: str, url: str, screenshot: Path, profile: Path) -> str:
    """The DOM Chromium built for `url` (and a screenshot of it)."""
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--window-size=1000,1100",
         "--lang=en-US", f"--screenshot={screenshot}", "--dump-dom", url],
        capture_output=True, text=True, timeout=90, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("browser")
    env = {
        "QUJAT_DATA_DIR": str(folder),
        "QUJAT_DATABASE_URL": f"sqlite:///{folder / 'qujat.sqlite3'}",
        "QUJAT_VERIFY_RATE_LIMIT": "1000 per minute",
        "QUJAT_TRUST_DIR": str(folder / "pki"),
    }
    qujat("db", "upgrade", env=env)
    qujat("pki", "init", env["QUJAT_TRUST_DIR"], env=env)
    token = create_token(env)
    qujat("org", "set", "KRG", "--name-kk", ORG_KK, "--name-ru", ORG_RU, env=env)
    with running(env, folder / "server.log") as live:
        headers = {"Authorization": f"Bearer {token}"}

        def head_signs(document_id: str) -> None:
            """The head signs with his own test key, as NCALayer would (a real CMS)."""
            signed = qujat("sign", "--p12", str(folder / "pki" / f"{HEAD}_sign.p12"),
                           "--url", live.url, "--token", token, document_id, env=env)
            assert "status: signed" in signed.stdout, signed.stdout + signed.stderr

        def issue(decision_id: str, **envelope: str) -> dict[str, Any]:
            body = load_example("certificate", "kk")
            body["decision"]["decision_id"] = decision_id
            body.update(envelope)
            response = requests.post(f"{live.url}/api/v1/documents", json=body,
                                     headers=headers, timeout=60)
            assert response.status_code == 201, response.text
            answer: dict[str, Any] = response.json()
            return answer

        valid = issue("browser-valid")
        awaiting = issue("browser-awaiting")
        revoked = issue("browser-revoked")
        old = issue("browser-old")
        for signed in (valid, revoked, old):
            head_signs(signed["id"])
        issue("browser-new", supersedes=old["registration_number"])
        # the act is dated on the day the server registered the document (its own clock,
        # Asia/Almaty), so the test holds on whatever day it runs
        record = requests.get(f"{live.url}/api/v1/documents/{revoked['id']}", headers=headers,
                              timeout=30).json()
        act_date = dt.datetime.fromisoformat(record["created_at"]).astimezone(ALMATY).date()
        response = requests.post(
            f"{live.url}/api/v1/documents/{revoked['id']}/revocation", headers=headers,
            json={"reason": "Апелляция", "act": {"number": "7", "date": act_date.isoformat()}},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        first = parse_registration_number(valid["registration_number"])
        unknown = RegistrationNumber(first.appendix, first.organisation, first.year, 999_999)
        number = valid["registration_number"]
        mistyped = number[:-4] + ("1" if number[-4] != "1" else "2") + number[-3:]
        yield {
            "url": live.url,
            "sign": head_signs,
            "issue": issue,
            "numbers": {
                "valid": number,
                "awaiting_signatures": awaiting["registration_number"],
                "revoked": revoked["registration_number"],
                "superseded": old["registration_number"],
                "not_issued": str(unknown),
                "mistyped": mistyped,
            },
        }


def test_chromium_shows_every_status_in_kazakh_and_russian(
    server: dict[str, Any], tmp_path: Path
) -> None:
    browser = chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = [
        (status, language, f"{server['url']}/verify/{number}"
         + ("?lang=ru" if language == "ru" else ""))
        for status, number in server["numbers"].items()
        for language in ("kk", "ru")
    ]

    def load(page: tuple[str, str, str]) -> tuple[str, str, str]:
        status, language, url = page
        shot = ARTIFACTS / f"verify-{status}-{language}.png"
        shot.unlink(missing_ok=True)
        dom = render(browser, url, shot, tmp_path / f"profile-{status}-{language}")
        assert shot.stat().st_size > 1000
        return status, language, dom

    with ThreadPoolExecutor(2) as pool:
        rendered = list(pool.map(load, pages))
    for status, language, dom in rendered:
        assert f'<html lang="{language}">' in dom
        section = re.search(r'<section class="status[^"]*" id="status" data-status="(\w+)">'
                            r"\s*<h2>([^<]+)</h2>", dom)
        assert section is not None, dom[:2000]
        assert section[1] == status
        assert section[2] == EXPECTED[status, language]
        switch = re.search(r'id="lang-switch" href="([^"]+)"', dom)
        assert switch is not None
        assert ("lang=kk" if language == "ru" else "lang=ru") in switch[1]
    revoked_ru = next(d for s, lang, d in rendered if (s, lang) == ("revoked", "ru"))
    assert 'id="revocation"' in revoked_ru
    assert "Апелляция" not in revoked_ru  # the reason is the holder's: shown with the QR token
    superseded = next(d for s, lang, d in rendered if (s, lang) == ("superseded", "kk"))
    assert 'id="superseded-by"' in superseded


def signers_on(dom: str) -> list[tuple[str, str, str]]:
    """(status, role, text) of each signer the rendered page lists."""
    return [(status, role, " ".join(re.sub(r"<[^>]+>", " ", text).split()))
            for status, role, text in re.findall(
                r'<li class="signer" data-status="(\w+)" data-role="(\w+)">(.*?)</li>', dom, re.S)]


def test_chromium_sees_an_unsigned_certificate_turn_valid_once_its_head_signs(
    server: dict[str, Any], tmp_path: Path
) -> None:
    browser = chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    receipt = server["issue"]("browser-signed-while-watched")
    url = f"{server['url']}/verify/{receipt['registration_number']}"

    def load(stage: str, language: str) -> str:
        shot = ARTIFACTS / f"verify-head-{stage}-{language}.png"
        shot.unlink(missing_ok=True)
        page = url + ("?lang=ru" if language == "ru" else "")
        dom = render(browser, page, shot, tmp_path / f"profile-{stage}-{language}")
        assert shot.stat().st_size > 1000
        return dom

    def status(dom: str) -> tuple[str, str]:
        found = re.search(r'<section class="status[^"]*" id="status" data-status="(\w+)">'
                          r"\s*<h2>([^<]+)</h2>", dom)
        assert found is not None, dom[:2000]
        return found[1], found[2]

    for language in ("kk", "ru"):
        before = load("before", language)
        assert status(before) == ("awaiting_signatures",
                                  EXPECTED["awaiting_signatures", language])
        assert signers_on(before)[0][:2] == ("missing", "head_of_organisation")
        assert 'id="answered-at"' in before
    server["sign"](receipt["id"])
    for language in ("kk", "ru"):
        after = load("after", language)
        assert status(after) == ("valid", EXPECTED["valid", language])
        [(state, role, line)] = signers_on(after)
        assert (state, role) == ("valid", "head_of_organisation")
        assert line.startswith("Мұқанов Дәурен Алтайұлы")
        assert ("қол қойылды" if language == "kk" else "подписано") in line
        assert f"<dd>{ORG_KK if language == 'kk' else ORG_RU} (KRG)</dd>" in after
