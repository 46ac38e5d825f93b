"""Deadlines in working days: the overrides table, notices judged against the application,
extracts due and overdue, the per-body listing (API and CLI). SQLite and PostgreSQL.

The app's clock is fixed at Monday 23 November 2026, 17:00 in Almaty (tests.conftest.NOW).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from service.cli import main
from service.core.db import Database
from service.deadlines.models import CalendarOverride
from service.deadlines.rules import calendar, list_deadlines, set_override
from service.deadlines.workdays import ALMATY
from service.registry.models import AuditEntry
from tests.conftest import NOW, fixed_clock

Example = Callable[..., dict[str, Any]]
TEACHER = "teacher@mektep.example.kz"


@pytest.fixture
def database(database: Database) -> Iterator[Database]:
    """The test's database with no calendar overrides, before and after (PostgreSQL keeps
    the table between tests: it is not among those tests/databases.py empties)."""
    with database.write() as session:
        session.execute(delete(CalendarOverride))
    yield database
    with database.write() as session:
        session.execute(delete(CalendarOverride))


@pytest.fixture
def app(app: Flask, database: Database) -> Flask:
    return app


def almaty(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ALMATY).isoformat()


def issue(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/documents", json=body)
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def notice(example: Example, decision_id: str, received: str | None, sent: str) -> dict[str, Any]:
    body = example("acceptance", "kk")
    body["decision"]["decision_id"] = decision_id
    body["decision"]["sent_at"] = sent
    if received is None:
        del body["decision"]["application_received_at"]
    else:
        body["decision"]["application_received_at"] = received
    return body


def extract(example: Example, decision_id: str, session_day: dt.date,
            deliver_to: str | None = TEACHER) -> dict[str, Any]:
    body = example("extract", "kk")
    body["decision"]["decision_id"] = decision_id
    body["decision"]["session"]["date"] = session_day.isoformat()
    if deliver_to:
        body["deliver_to"] = deliver_to
    return body


def listed(client: FlaskClient, status: str | None = None) -> dict[str, dict[str, Any]]:
    query = f"?status={status}" if status else ""
    response = client.get("/api/v1/deadlines" + query)
    assert response.status_code == 200, response.get_json()
    # every time of the answer in Asia/Almaty, "now" as well
    assert dt.datetime.fromisoformat(response.get_json()["now"]).utcoffset() == (
        dt.datetime.now(ALMATY).utcoffset())
    return {d["document"]["registration_number"]: d for d in response.get_json()["deadlines"]}


# --------------------------------------------------------------------------- the calendar


def test_overrides_come_from_the_table_and_move_open_deadlines(
    app: Flask, client: FlaskClient, example: Example, database: Database
) -> None:
    # decided on Friday 20 November 2026: 3 working days are 23, 24, 25 November
    issued = issue(client, extract(example, "krg-extract-transfer", dt.date(2026, 11, 20)))
    [before] = listed(client).values()
    assert before["due_at"] == almaty(dt.date(2026, 11, 25), 18)

    with database.write() as session:
        moved = set_override(session, dt.date(2026, 11, 21), True, fixed_clock)  # a Saturday
    assert moved == 1
    with database.read() as session:
        working = calendar(session)
        assert working.is_working_day(dt.date(2026, 11, 21))
        assert not working.is_working_day(dt.date(2026, 11, 22))
    [after] = listed(client).values()
    assert after["due_at"] == almaty(dt.date(2026, 11, 24), 18)
    assert after["document"]["id"] == issued["id"]

    with database.write() as session:  # the decree's other half: a weekday off
        set_override(session, dt.date(2026, 11, 23), False, fixed_clock)
    [again] = listed(client).values()
    assert again["due_at"] == almaty(dt.date(2026, 11, 25), 18)
    with database.read() as session:
        assert [e.event for e in session.scalars(select(AuditEntry))][-2:] == [
            "calendar_override", "calendar_override"
        ]


def test_calendar_cli(runner: CliRunner, cli_env: dict[str, str], database: Database) -> None:
    result = runner.invoke(main, ["calendar", "add-working-day", "2026-12-26"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "2026-12-26 is a working day" in result.output
    result = runner.invoke(main, ["calendar", "add-day-off", "2026-12-31"], env=cli_env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["calendar", "list"], env=cli_env)
    assert result.output.splitlines() == [
        "2026-12-26\tworking day", "2026-12-31\tday off", "2 override(s)"
    ]
    bad = runner.invoke(main, ["calendar", "add-day-off", "2026-02-30"], env=cli_env)
    assert bad.exit_code == 2
    assert "not a date" in bad.output
    with database.read() as session:
        working = calendar(session)
    assert working.is_working_day(dt.date(2026, 12, 26))
    assert not working.is_working_day(dt.date(2026, 12, 31))


# --------------------------------------------------------------------------- notices


def test_a_notice_sent_later_than_one_working_day_is_late(
    client: FlaskClient, example: Example
) -> None:
    friday = dt.date(2026, 11, 13)
    # 17:59 on a Friday: due Monday 18:00; sent on Tuesday morning: late
    late = issue(client, notice(example, "krg-notice-late", almaty(friday, 17, 59),
                                almaty(dt.date(2026, 11, 17), 10)))
    # 18:01 on a Friday counts from Monday: due Tuesday 18:00; the same sending is in time
    in_time = issue(client, notice(example, "krg-notice-ok", almaty(friday, 18, 1),
                                   almaty(dt.date(2026, 11, 17), 10)))

    found = listed(client, "late")
    assert list(found) == [late["registration_number"]]
    entry = found[late["registration_number"]]
    assert entry["kind"] == "notice"
    assert entry["clock_started_by"] == {
        "event": "application_received", "at": almaty(friday, 17, 59)
    }
    assert entry["due_at"] == almaty(dt.date(2026, 11, 16), 18)
    assert entry["met_at"] == almaty(dt.date(2026, 11, 17), 10)
    assert entry["working_days"] == 1
    met = listed(client, "met")
    assert list(met) == [in_time["registration_number"]]
    assert met[in_time["registration_number"]]["due_at"] == almaty(dt.date(2026, 11, 17), 18)
    assert in_time["registration_number"] not in listed(client)  # in time: needs nothing


def test_a_notice_without_the_application_time_counts_from_its_registration(
    client: FlaskClient, example: Example
) -> None:
    issued = issue(client, notice(example, "krg-notice-no-received", None,
                                  almaty(dt.date(2026, 11, 23), 10)))
    [entry] = listed(client, "met").values()
    assert entry["document"]["id"] == issued["id"]
    assert entry["clock_started_by"]["event"] == "document_created"
    assert entry["clock_started_by"]["at"] == NOW.astimezone(ALMATY).isoformat()


# --------------------------------------------------------------------------- extracts


def test_an_extract_not_sent_within_three_working_days_is_overdue(
    client: FlaskClient, client_for: Callable[[str], FlaskClient], example: Example
) -> None:
    # decided Monday 16 November: due Thursday 19 November 18:00, now is the 23rd: overdue
    overdue = issue(client, extract(example, "krg-extract-overdue", dt.date(2026, 11, 16)))
    # decided Friday 20 November: due Wednesday 25 November 18:00: still due
    due = issue(client, extract(example, "krg-extract-due", dt.date(2026, 11, 20)))
    # handed over by the platform itself: qujat cannot know, so no deadline
    issue(client, extract(example, "krg-extract-plain", dt.date(2026, 11, 16), deliver_to=None))

    found = listed(client, "overdue")
    assert list(found) == [overdue["registration_number"]]
    entry = found[overdue["registration_number"]]
    assert (entry["kind"], entry["status"], entry["met_at"]) == ("delivery", "overdue", None)
    assert entry["clock_started_by"] == {
        "event": "decision_made", "at": almaty(dt.date(2026, 11, 16), 9)
    }
    assert entry["due_at"] == almaty(dt.date(2026, 11, 19), 18)
    assert list(listed(client, "due")) == [due["registration_number"]]
    assert list(listed(client)) == [overdue["registration_number"], due["registration_number"]]
    assert listed(client_for("ABC")) == {}  # another body sees none of them


def test_a_protocol_has_fifteen_working_days_to_publish_its_list(
    client: FlaskClient, example: Example, database: Database
) -> None:
    body = example("protocol", "kk")
    body["decision"]["decision_id"] = "krg-protocol-deadline"
    issued = issue(client, body)
    session_day = dt.date.fromisoformat(body["decision"]["session"]["date"])
    with database.read() as session:
        working = calendar(session)
        [entry] = list_deadlines(session, NOW)
    assert entry.registration_number == issued["registration_number"]
    assert entry.kind.value == "publication"
    start = dt.datetime.combine(session_day, dt.time(9), tzinfo=ALMATY)
    assert entry.due_at == working.due(start, 15)


def test_a_bad_status_is_one_problem_in_the_callers_language(client: FlaskClient) -> None:
    response = client.get("/api/v1/deadlines?status=soon", headers={"Accept-Language": "kk"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    [error] = response.get_json()["errors"]
    assert (error["pointer"], error["code"]) == ("/status", "enum")
    assert "overdue" in error["reason"]


def test_deadlines_cli_lists_per_body_and_marks_met(
    client: FlaskClient, example: Example, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    overdue = issue(client, extract(example, "krg-extract-cli", dt.date(2026, 11, 2)))
    result = runner.invoke(main, ["deadlines", "--status", "overdue"], env=cli_env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "KRG"
    assert lines[1].split()[:2] == ["overdue", overdue["registration_number"]]
    assert lines[-1] == "1 deadline(s)"
    assert runner.invoke(main, ["deadlines", "--status", "due"], env=cli_env).output == (
        "0 deadline(s)\n"
    )
    done = runner.invoke(main, ["deadlines", "met", overdue["id"]], env=cli_env)
    assert done.exit_code == 0, done.output
    # met after its due time: said so, with the time it was due
    assert done.output.startswith(f"{overdue['registration_number']}: deadline met late "), (
        done.output)
    assert "(due 2026-11-05T18:00" in done.output
    late = runner.invoke(main, ["deadlines", "--status", "late"], env=cli_env)
    assert overdue["registration_number"] in late.output
    again = runner.invoke(main, ["deadlines", "met", overdue["id"]], env=cli_env)
    assert again.exit_code == 1
    assert "no open deadline" in again.output
