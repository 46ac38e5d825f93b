"""Kazakhstan's working-day calendar and the act's deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from service.deadlines.workdays import ALMATY, WorkingCalendar

D = dt.date


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ALMATY)


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (D(2026, 1, 1), "New Year"),
        (D(2026, 1, 2), "New Year, second day"),
        (D(2026, 3, 23), "Nauryz"),
        (D(2026, 3, 24), "Nauryz falling on the weekend, moved"),
        (D(2026, 5, 1), "Unity Day, 1 May"),
        (D(2026, 5, 11), "Victory Day (9 May, a Saturday) observed"),
        (D(2025, 5, 9), "Victory Day"),
        (D(2025, 8, 30), "Constitution Day"),
        (D(2025, 9, 1), "Constitution Day (a Saturday) observed"),
        (D(2026, 11, 21), "a Saturday"),
        (D(2026, 11, 22), "a Sunday"),
    ],
)
def test_days_off(day: dt.date, why: str) -> None:
    assert not WorkingCalendar().is_working_day(day), why


def test_an_ordinary_tuesday_is_a_working_day() -> None:
    assert WorkingCalendar().is_working_day(D(2026, 11, 24))


def test_a_weekend_day_the_decree_made_working() -> None:
    assert WorkingCalendar().is_working_day(D(2025, 1, 5))  # known to the holidays package


def test_overrides_from_the_table() -> None:
    calendar = WorkingCalendar(days_off=[D(2026, 12, 31)], working_days=[D(2026, 12, 26)])
    assert not calendar.is_working_day(D(2026, 12, 31))
    assert calendar.is_working_day(D(2026, 12, 26))  # a Saturday made working


def test_a_day_cannot_be_both() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(days_off=[D(2026, 12, 26)], working_days=[D(2026, 12, 26)])


def test_friday_17_59_is_due_monday() -> None:
    friday = D(2026, 11, 20)
    assert WorkingCalendar().due(at(friday, 17, 59), 1) == at(D(2026, 11, 23), 18)


def test_friday_18_01_counts_from_monday_and_is_due_tuesday() -> None:
    friday = D(2026, 11, 20)
    calendar = WorkingCalendar()
    assert calendar.start_day(at(friday, 18, 1)) == D(2026, 11, 23)
    assert calendar.due(at(friday, 18, 1), 1) == at(D(2026, 11, 24), 18)


def test_a_utc_timestamp_is_read_in_almaty_time() -> None:
    # 12:30 UTC is 17:30 in Almaty: still within working hours
    moment = dt.datetime(2026, 11, 20, 12, 30, tzinfo=dt.UTC)
    assert WorkingCalendar().start_day(moment) == D(2026, 11, 20)


def test_an_application_on_a_holiday_counts_from_the_next_working_day() -> None:
    calendar = WorkingCalendar()
    assert calendar.start_day(at(D(2026, 3, 23), 10)) == D(2026, 3, 26)


def test_extract_within_three_working_days_across_nauryz() -> None:
    # a decision on Friday 20 March 2026: Nauryz days off Monday 23 - Wednesday 25 March,
    # so the three working days are Thursday 26, Friday 27 and Monday 30
    assert WorkingCalendar().due(at(D(2026, 3, 20), 11), 3) == at(D(2026, 3, 30), 18)


def test_working_hours_are_a_setting() -> None:
    calendar = WorkingCalendar(opens=dt.time(8), closes=dt.time(17))
    assert calendar.start_day(at(D(2026, 11, 20), 17, 30)) == D(2026, 11, 23)


def test_working_days_between() -> None:
    assert WorkingCalendar().working_days_between(D(2026, 11, 20), D(2026, 11, 25)) == 3
