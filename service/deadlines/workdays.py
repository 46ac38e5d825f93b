"""Kazakhstan's working days, and the deadlines the act counts in them.

Public holidays (and the days off that replace holidays falling on a weekend, and the weekend
days the government makes working days) come from the `holidays` package; each year's decree
can move more days, so a calendar also takes explicit overrides (kept in the database and
edited with `qujat calendar add-day-off` / `add-working-day`). Local time is Asia/Almaty
(UTC+5 for all of Kazakhstan since 1 March 2024).

How a deadline of N working days is counted (p. 20, p. 23): the clock starts on the day the
event happened if that is a working day and the event came within working hours; otherwise on
the next working day (an application sent after hours, on a weekend or a holiday counts from
the next working day). The deadline is the end of working hours of the N-th working day after
that start day. So an application at 17:59 on a Friday is due on Monday at 18:00; one at 18:01
is due on Tuesday at 18:00.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

ALMATY = ZoneInfo("Asia/Almaty")


class WorkingCalendar:
    def __init__(
        self,
        *,
        days_off: Iterable[dt.date] = (),
        working_days: Iterable[dt.date] = (),
        opens: dt.time = dt.time(9, 0),
        closes: dt.time = dt.time(18, 0),
        tz: dt.tzinfo = ALMATY,
    ) -> None:
        if opens >= closes:
            raise ValueError("working hours must open before they close")
        self.days_off = frozenset(days_off)
        self.working_days = frozenset(working_days)
        overlap = self.days_off & self.working_days
        if overlap:
            raise ValueError(f"a day cannot be both off and working: {sorted(overlap)}")
        self.opens = opens
        self.closes = closes
        self.tz = tz

    @cached_property
    def _public(self) -> holidays.HolidayBase:
        return holidays.country_holidays("KZ")

    def holiday_name(self, day: dt.date) -> str | None:
        name = self._public.get(day)
        return str(name) if name else None

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working_days:
            return True
        if day in self.days_off:
            return False
        is_holiday = day in self._public  # also loads the year, and its transferred work days
        if day in getattr(self._public, "weekend_workdays", ()):
            return True
        return day.weekday() < 5 and not is_holiday

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def start_day(self, moment: dt.datetime) -> dt.date:
        """The working day a deadline counts from for an event at `moment`."""
        local = moment.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.closes:
            return day
        return self.next_working_day(day)

    def due(self, moment: dt.datetime, working_days: int) -> dt.datetime:
        """The end of working hours of the `working_days`-th working day after the start day."""
        if working_days < 0:
            raise ValueError("a deadline cannot be negative")
        day = self.start_day(moment)
        for _ in range(working_days):
            day = self.next_working_day(day)
        return dt.datetime.combine(day, self.closes, tzinfo=self.tz)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many have passed since `start` by `end`."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count
