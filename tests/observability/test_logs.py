"""The log formats: one JSON object per line with a record's fields, and no IIN or API token
even when a message carries one (an exception's text, a library's message)."""

from __future__ import annotations

import json
import logging

import pytest

from service.observability.logs import JsonFormatter, TextFormatter, log_format


def record(message: str, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("qujat.job", logging.INFO, __file__, 1, message, (), None)
    made.fields = fields
    return made


def test_a_json_line_carries_the_fields_and_masks_identifiers() -> None:
    line = JsonFormatter().format(record(
        "refused 700101300342 with qj_Zm9vYmFyYmF6cXV4", job="mail", outcome="sent",
        duration_ms=1.5))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "refused ************ with qj_***"
    assert (entry["job"], entry["outcome"], entry["duration_ms"]) == ("mail", "sent", 1.5)
    assert entry["level"] == "info"
    assert entry["logger"] == "qujat.job"


def test_text_lines_mask_the_same() -> None:
    line = TextFormatter().format(record("for 700101300342", job="batch_item"))
    assert "700101300342" not in line
    assert line.endswith("for ************ job=batch_item")


def test_the_format_setting_is_checked() -> None:
    assert log_format({}) == "json"
    assert log_format({"QUJAT_LOG_FORMAT": "text"}) == "text"
    with pytest.raises(ValueError, match="json or text"):
        log_format({"QUJAT_LOG_FORMAT": "xml"})
