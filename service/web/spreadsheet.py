"""CSV cells a spreadsheet opens as text, never as a formula (OWASP "CSV Injection").

A cell that begins with `=`, `+`, `-` or `@`, or with a tab or a carriage return (which some
programs skip before looking for those), is prefixed with a single quote: spreadsheet programs
then show it as text, and a reader still sees every character of the name or organisation.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: str) -> str:
    """`cell` as written into a published CSV."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
