"""The years a date sent to qujat may fall in: 1991 to 2100.

A calendar accepts 0001-01-01 and 9999-12-31, and so did the schemas: a certificate dated in
the year 133 or a commission whose term ends in the year 77 is a typo or an attack, never a
fact. The window is fixed rather than relative to today so that a date valid once stays
valid: 1991 is the first year of the Republic of Kazakhstan's own education system (no
attestation decision under its law is older); 2100 leaves room for every validity qujat
computes (an order's date plus at most five years) and for decades of service.
Whether a date may be in the future is each field's own rule (decisions, revocation acts).
"""

from __future__ import annotations

import datetime as dt

EARLIEST = dt.date(1991, 1, 1)
LATEST = dt.date(2100, 12, 31)
WINDOW = {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()}


def in_window(value: dt.date | dt.datetime) -> bool:
    """True when the calendar day of `value` (a moment's own, in its offset) is in the window."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return EARLIEST <= day <= LATEST
