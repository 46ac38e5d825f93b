"""`qujat signature verify`: exit codes, the JSON report, every input shape, the moment."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from service.cli import main
from signing import combine_signatures
from signing.client import create_cms
from signing.pki import Person, TestPKI, init_test_pki

DATA = Path(__file__).parents[1] / "signing" / "data"
MEMBERS = (
    Person("931002451325", "Тестов", "Тест", "Тестович"),
    Person("850314300003", "Иванов", "Иван", "Иванович"),
)
CONTENT = b"%PDF-1.7\n a protocol \n%%EOF\n"
SIGNER_KEYS = {
    "intact",
    "result",
    "codes",
    "algorithm",
    "iin",
    "bin",
    "subject",
    "signing_time",
    "judged_at",
    "certificate",
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return init_test_pki(tmp_path_factory.mktemp("pki"), MEMBERS)


@pytest.fixture
def files(tmp_path: Path, pki: TestPKI) -> dict[str, Path]:
    der = create_cms(CONTENT, pki.credential(MEMBERS[0].iin))
    made = {
        "content": CONTENT,
        "detached.p7s": der,
        "attached.p7s": create_cms(CONTENT, pki.credential(MEMBERS[0].iin), attach=True),
        "detached.pem": b"-----BEGIN PKCS7-----\n"
        + base64.encodebytes(der)
        + b"-----END PKCS7-----\n",
        "detached.b64": base64.b64encode(der),
        "combined.p7s": combine_signatures(
            [der, create_cms(CONTENT, pki.credential(MEMBERS[1].iin))]
        ),
        "other": CONTENT + b"changed",
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in made}


def run(runner: CliRunner, pki: TestPKI, *args: str | Path, trust: bool = True) -> Result:
    options = ["--trust-dir", str(pki.directory)] if trust else []
    return runner.invoke(
        main,
        ["signature", "verify", *map(str, args), *options],
        env={"QUJAT_TRUST_DIR": "", "QUJAT_REVOCATION": ""},
    )


def report(result: Result) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(result.stdout)
    return body


@pytest.mark.parametrize("name", ["detached.p7s", "detached.pem", "detached.b64"])
def test_a_valid_detached_signature_in_any_shape_exits_0(
    runner: CliRunner, pki: TestPKI, files: dict[str, Path], name: str
) -> None:
    result = run(runner, pki, files[name], "--content", files["content"], "--json")

    assert result.exit_code == 0, result.output
    body = report(result)
    assert body["format"] == "cms"
    assert body["result"] == "valid"
    (signer,) = body["signers"]
    assert set(signer) == SIGNER_KEYS
    assert signer["intact"] is True
    assert signer["result"] == "valid"
    assert signer["codes"] == []
    assert signer["algorithm"] == "rsa-sha256"
    assert signer["iin"] == MEMBERS[0].iin
    assert "SERIALNUMBER=IIN931002451325" in signer["subject"]
    assert set(signer["certificate"]) == {"serial", "issuer", "not_before", "not_after"}
    assert signer["signing_time"] is not None


def test_attached_needs_no_content(runner: CliRunner, pki: TestPKI, files: dict[str, Path]) -> None:
    assert run(runner, pki, files["attached.p7s"]).exit_code == 0


def test_detached_without_content_exits_1_indeterminate(
    runner: CliRunner, pki: TestPKI, files: dict[str, Path]
) -> None:
    result = run(runner, pki, files["detached.p7s"], "--json")

    assert result.exit_code == 1
    (signer,) = report(result)["signers"]
    assert signer["result"] == "indeterminate"
    assert signer["codes"] == ["no_content"]
    assert signer["intact"] is False


def test_other_content_exits_1_invalid(
    runner: CliRunner, pki: TestPKI, files: dict[str, Path]
) -> None:
    result = run(runner, pki, files["detached.p7s"], "--content", files["other"], "--json")

    assert result.exit_code == 1
    (signer,) = report(result)["signers"]
    assert (signer["result"], signer["codes"], signer["intact"]) == (
        "invalid",
        ["digest_mismatch"],
        False,
    )


def test_a_combined_p7s_lists_every_signer(
    runner: CliRunner, pki: TestPKI, files: dict[str, Path]
) -> None:
    result = run(runner, pki, files["combined.p7s"], "--content", files["content"], "--json")

    assert result.exit_code == 0, result.output
    signers = report(result)["signers"]
    assert sorted(s["iin"] for s in signers) == sorted(m.iin for m in MEMBERS)
    assert all(s["result"] == "valid" for s in signers)


def test_at_variants(runner: CliRunner, pki: TestPKI, files: dict[str, Path]) -> None:
    not_after = pki.credential(MEMBERS[0].iin).certificate.not_valid_after_utc
    after = (not_after + timedelta(days=1)).isoformat()
    base = [files["detached.p7s"], "--content", files["content"], "--json"]

    now = run(runner, pki, *base, "--at", "now")
    signing_time = run(runner, pki, *base, "--at", "signing-time")
    later = run(runner, pki, *base, "--at", after, "--revocation", "off")

    assert now.exit_code == 0
    assert signing_time.exit_code == 0
    signer = report(signing_time)["signers"][0]
    assert signer["judged_at"] == signer["signing_time"]
    assert later.exit_code == 1
    assert report(later)["signers"][0]["codes"] == ["expired"]


@pytest.mark.parametrize(
    "args",
    [
        ["--at", "yesterday"],
        ["--revocation", "sometimes"],
        ["--messages", "de"],
        ["--content", "/no/such/file"],
    ],
)
def test_usage_errors_exit_2(
    runner: CliRunner, pki: TestPKI, files: dict[str, Path], args: list[str]
) -> None:
    result = run(runner, pki, files["detached.p7s"], *args)

    assert result.exit_code == 2
    assert "Usage:" in result.output


def test_a_missing_file_or_trust_folder_is_a_usage_error(
    runner: CliRunner, pki: TestPKI, files: dict[str, Path]
) -> None:
    assert run(runner, pki, "/no/such/file.p7s").exit_code == 2
    without = run(runner, pki, files["detached.p7s"], trust=False)
    assert without.exit_code == 2
    assert "QUJAT_TRUST_DIR" in without.output


def test_content_with_xml_is_a_usage_error(
    runner: CliRunner, pki: TestPKI, files: dict[str, Path]
) -> None:
    result = run(runner, pki, DATA / "xml_ncanode_rsa.xml", "--content", files["content"])

    assert result.exit_code == 2
    assert "--content" in result.output


def test_garbage_exits_1_with_a_file_level_code(
    runner: CliRunner, pki: TestPKI, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.p7s"
    junk.write_bytes(b"this is not a signature")

    result = run(runner, pki, junk, "--json")

    assert result.exit_code == 1
    assert report(result) == {
        "format": "cms",
        "result": "invalid",
        "codes": ["malformed"],
        "signers": [],
    }


def test_real_ncalayer_xml_as_json(runner: CliRunner, pki: TestPKI) -> None:
    result = run(runner, pki, DATA / "xml_ncanode_rsa_gost.xml", "--json", "--revocation", "off")

    assert result.exit_code == 1  # intact, but an NCA test CA is not in this trust folder
    body = report(result)
    assert body["format"] == "xml"
    assert [(s["algorithm"], s["intact"], s["codes"]) for s in body["signers"]] == [
        ("rsa-sha256", True, ["untrusted"]),
        ("gost2015-512", True, ["untrusted"]),
    ]
    assert {s["iin"] for s in body["signers"]} == {"123456789011", "123456789012"}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("kk", "Нәтиже: жарамды"),
        ("ru", "Итог: действительна"),
        ("en", "Result: valid"),
    ],
)
def test_readable_report_in_the_chosen_language(
    runner: CliRunner, pki: TestPKI, files: dict[str, Path], language: str, expected: str
) -> None:
    result = run(
        runner, pki, files["detached.p7s"], "--content", files["content"], "--messages", language
    )

    assert result.exit_code == 0
    assert expected in result.output
    assert MEMBERS[0].iin in result.output


def test_readable_report_says_why(runner: CliRunner, pki: TestPKI, files: dict[str, Path]) -> None:
    result = run(runner, pki, files["detached.p7s"], "--messages", "ru")

    assert result.exit_code == 1
    assert "для проверки нужен и сам подписанный документ" in result.output
    assert "[no_content]" in result.output
