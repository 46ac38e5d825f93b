"""QUJAT_TESTING_FAULTS: off unless set, strict about what it accepts."""

from __future__ import annotations

import pytest

from service.core.config import Settings
from service.core.faults import NO_FAULTS, ConfiguredFaults, InjectedFault, parse_faults


def test_no_faults_by_default() -> None:
    assert Settings.from_env({}).testing_faults == ""
    assert parse_faults("") is NO_FAULTS
    NO_FAULTS.inside_create("x")
    NO_FAULTS.before_render("x")


def test_faults_match_decision_ids() -> None:
    faults = parse_faults('{"fail_create": "-fc$", "fail_render": "^r-"}')
    assert isinstance(faults, ConfiguredFaults)
    faults.inside_create("a-ok")
    with pytest.raises(InjectedFault):
        faults.inside_create("a-fc")
    faults.before_render("a-fc")
    with pytest.raises(InjectedFault):
        faults.before_render("r-1")


@pytest.mark.parametrize("text", ["not json", "[]", '{"explode": "x"}'])
def test_bad_fault_specs_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="QUJAT_TESTING_FAULTS"):
        parse_faults(text)


def test_settings_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("/var/qujat.sqlite3")
