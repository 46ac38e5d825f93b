"""`--messages kk|ru` gives the whole error in that language, its header included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service.cli import main


@pytest.mark.parametrize(("language", "header"), [
    ("ru", "Решение не принято (ошибок: 1):"),
    ("kk", "Шешім қабылданбады (қателер саны: 1):"),
    ("en", "invalid decision (1 problem(s)):"),
])
def test_render_reports_an_invalid_decision_in_the_chosen_language(
    runner: CliRunner, tmp_path: Path, example: Any, language: str, header: str
) -> None:
    body = example("certificate", "kk")
    del body["decision"]["position"]
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
    result = runner.invoke(main, ["render", str(request), "-o", str(tmp_path / "out.pdf"),
                                  "--messages", language])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == header
    assert "[required]" in lines[1]
    if language != "en":
        assert "invalid" not in result.stderr
