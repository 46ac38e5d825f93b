"""`qujat trust init` and `qujat trust refresh` (against a CRL server on 127.0.0.1)."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import main
from signing import TrustAnchors
from signing.anchors import anchors
from signing.pki import TestPKI


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[ThreadingHTTPServer, Path, str]]:
    folder = tmp_path / "published"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, folder, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()  # (a second shutdown of a stopped server returns at once)


@pytest.mark.parametrize(("flag", "generation"), [([], "production"), (["--test"], "test")])
def test_init_writes_one_generation(
    runner: CliRunner, tmp_path: Path, flag: list[str], generation: str
) -> None:
    folder = tmp_path / "trust"
    result = runner.invoke(main, ["trust", "init", str(folder), *flag])
    assert result.exit_code == 0, result.output
    expected = {a.file for a in anchors(generation)}  # type: ignore[arg-type]
    assert {p.name for p in folder.iterdir()} == {*expected, "revocation.json"}
    for anchor in anchors(generation):  # type: ignore[arg-type]
        assert anchor.sha256[:16] in result.output
    assert f"QUJAT_TRUST_DIR={folder.resolve()}" in result.output
    assert TrustAnchors.from_folder(folder).roots


def test_refresh_reports_each_address_and_fails_when_the_server_is_down(
    runner: CliRunner,
    tmp_path: Path,
    published: tuple[ThreadingHTTPServer, Path, str],
) -> None:
    server, folder, url = published
    pki = TestPKI(folder, crl_url=url)  # its CRLs, published
    trust = tmp_path / "trust"
    trust.mkdir()
    for name in ("root.pem", "intermediate.pem"):
        (trust / name).write_bytes((folder / name).read_bytes())
    (trust / "revocation.json").write_text(json.dumps({"crl_urls": [f"{url}intermediate.crl"]}))

    first = runner.invoke(main, ["trust", "refresh", "--trust-dir", str(trust)])

    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert any(
        line.startswith(f"fetched      {url}intermediate.crl  next update ") for line in lines
    )
    assert any(line.startswith(f"fetched      {url}root.crl") for line in lines)
    assert lines[-1] == "2 addresses, 0 failed"
    assert len(TrustAnchors.from_folder(trust).crls) == 2

    again = runner.invoke(main, ["trust", "refresh"], env={"QUJAT_TRUST_DIR": str(trust)})
    assert again.exit_code == 0, again.output
    assert all(line.startswith("current") for line in again.output.splitlines()[:-1])

    server.shutdown()
    server.server_close()
    down = runner.invoke(main, ["trust", "refresh", "--trust-dir", str(trust), "--force"])
    assert down.exit_code == 1
    assert f"failed       {url}intermediate.crl  next update" in down.output
    assert "cannot reach the server" in down.output
    assert pki.root_path.exists()


def test_refresh_needs_a_folder(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["trust", "refresh"], env={"QUJAT_TRUST_DIR": ""})
    assert result.exit_code == 2
    assert "QUJAT_TRUST_DIR" in result.output
    broken = tmp_path / "trust"
    broken.mkdir()
    (broken / "revocation.json").write_text('{"crl_urls": ["file:///etc/passwd"]}')
    result = runner.invoke(main, ["trust", "refresh", "--trust-dir", str(broken)])
    assert result.exit_code == 1
    assert "crl_urls must be a list of http(s) URLs" in result.output
