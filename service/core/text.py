"""The one rule for text a caller sends: names, organisations, positions, reasons, numbers.

Every free-text and name field of the service (decisions, commissions, revocations, batch
items) is checked by `text_problem`, so a value refused in one place is refused everywhere.
What a field may hold is what names and official Kazakh/Russian texts really carry, and
nothing that prints differently from what is stored or prints as nothing at all.

Allowed
    - letters of any script (Unicode categories L*), except the fillers below;
    - combining marks (M*) right after a letter, at most `MAX_MARKS` in a row (й as и + ̆,
      Latin-script Kazakh with diacritics written decomposed);
    - the ordinary space U+0020 and, inside a text, the no-break spaces U+00A0 and U+202F
      that typeset Russian and Kazakh texts use ("№ 153", "20 июня");
    - in a name (`TextKind.NAME`: surname, given name, patronymic): also the hyphen
      (U+002D, U+2010), the apostrophe (U+0027, U+2019, U+02BC) and the full stop. A name has
      at least one letter and no digit;
    - in any other text (`TextKind.TEXT`): also digits and other numbers (N*), punctuation
      (P*: quotes « » „ “ ”, dashes, brackets, № is a symbol, see below), mathematical and
      currency signs (Sm, Sc: + = < > ₸ $), the spacing accents of Latin-1 and Spacing
      Modifier Letters (Sk below U+0300), and the symbols № ° © ® ™.

Refused, each with its own error code
    - `text_control`: control characters (Cc: NUL, tab, CR, LF, DEL, C1), line and paragraph
      separators (U+2028, U+2029): a one-line field must stay one line wherever it is printed;
    - `text_invisible`: characters that print as nothing or change how the text around them
      reads: every format character (Cf), i.e. bidirectional marks and overrides (LRM, RLM,
      ALM, LRE…PDF, LRI…PDI), zero-width space and (non-)joiners, word joiner, BOM/ZWNBSP,
      soft hyphen, tag characters; and the default-ignorable or blank letters and marks
      (Hangul fillers U+3164, U+115F, U+1160, U+FFA0, combining grapheme joiner U+034F,
      variation selectors, Khmer inherent vowels U+17B4/U+17B5, braille blank U+2800). Two
      names that differ only by such a character look identical on paper and on screen;
    - `text_not_a_character`: code points that are not characters: lone surrogates,
      noncharacters (U+FFFE, U+FFFF, U+FDD0…U+FDEF, …), private-use and unassigned code
      points — no font prints them the same way, and a later Unicode may give them a meaning;
    - `text_mark_without_letter`: a combining mark at the start, after a space, digit or
      punctuation, or the (MAX_MARKS+1)-th mark on one letter ("zalgo" text);
    - `text_character_not_allowed`: anything else outside the lists above for the field
      (a digit in a name, an emoji, an em space);
    - `text_edge_space`: a space at the start or the end (stored text is what is printed;
      " Ахметов" and "Ахметов" must not be two people);
    - `text_no_letter`: a name without a single letter.

E-mail addresses (`email_problem`, for `deliver_to`) have a rule of their own, RFC 5321's
for the envelope: ASCII only (`email_not_ascii`: qujat does not send SMTPUTF8, so an address
that needs it is refused when the document is issued, not retried for a day; an
internationalised domain is written in its xn-- form), then `bad_email` for anything the
`email-validator` library refuses (spaces, controls, no @, no dot in the domain, quoted
local parts, display names, IP literals, special-use domains such as .local or .test), a
local part over 64 or an address over 254 characters.

Normalisation: the JSON body reader (service/api/body.py) gives every string in NFC, so
the composed and decomposed spellings of a name are stored as one and the same text; the
rule itself accepts either form, so that the command line (which reads files directly)
refuses nothing the API accepts.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email

MAX_MARKS = 3
MAX_EMAIL = 254  # RFC 5321 §4.5.3.1.3 (a path of 256 with its angle brackets)
MAX_EMAIL_LOCAL = 64  # RFC 5321 §4.5.3.1.1

_SPACES_IN_TEXT = frozenset("\u0020\u00a0\u202f")
_NAME_PUNCTUATION = frozenset("-\u2010'\u2019.")
_TEXT_SYMBOLS = frozenset("№°©®™")  # № ° © ® ™
# letters and marks that are default-ignorable or print blank (Unicode DerivedCoreProperties
# Default_Ignorable_Code_Point outside Cf/Cn, plus the braille blank)
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800,
     0x3164, 0xFFA0, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
)


class TextKind(enum.Enum):
    NAME = "name"  # a surname, given name or patronymic
    TEXT = "text"  # anything else a person writes: organisation, position, reason, number


@dataclass(frozen=True, slots=True)
class TextProblem:
    """Why a text is refused: an error code of service/messages.py and its parameters."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


def is_noncharacter(point: int) -> bool:
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def _described(char: str, position: int) -> dict[str, Any]:
    point = ord(char)
    name = unicodedata.name(char, "") if not 0xD800 <= point <= 0xDFFF else ""
    label = f"U+{point:04X}" + (f" {name}" if name else "")
    return {"character": label, "position": position}


def _refused(char: str) -> str | None:
    """The code refusing `char` wherever it stands, or None."""
    point = ord(char)
    category = unicodedata.category(char)
    if category == "Cc" or category in ("Zl", "Zp"):
        return "text_control"
    if category in ("Cs", "Co", "Cn") or is_noncharacter(point):
        return "text_not_a_character"
    if category == "Cf" or point in _INVISIBLE:
        return "text_invisible"
    return None


def _allowed(char: str, kind: TextKind) -> bool:
    """Whether `char` (not a mark) may stand in a field of `kind`."""
    category = unicodedata.category(char)
    if category[0] == "L" or char == " ":
        return True
    if kind is TextKind.NAME:
        return char in _NAME_PUNCTUATION
    if char in _SPACES_IN_TEXT or char in _TEXT_SYMBOLS:
        return True
    if category[0] in ("N", "P") or category in ("Sm", "Sc"):
        return True
    return category == "Sk" and ord(char) < 0x0300


def text_problem(value: str, kind: TextKind = TextKind.TEXT) -> TextProblem | None:
    """The first reason `value` breaks the text rule for a field of `kind`, or None.

    Length and emptiness are each field's own limits (its schema); this rule says which
    characters, in which places."""
    marks = 0
    after_letter = False
    for index, char in enumerate(value):
        position = index + 1
        code = _refused(char)
        if code is not None:
            return TextProblem(code, _described(char, position))
        if unicodedata.category(char)[0] == "M":
            marks += 1
            if not after_letter or marks > MAX_MARKS:
                return TextProblem("text_mark_without_letter", _described(char, position))
            continue
        if not _allowed(char, kind):
            return TextProblem("text_character_not_allowed", _described(char, position))
        marks = 0
        after_letter = unicodedata.category(char)[0] == "L"
    if value != value.strip():
        return TextProblem("text_edge_space")
    if kind is TextKind.NAME and not any(unicodedata.category(c)[0] == "L" for c in value):
        return TextProblem("text_no_letter")
    return None


def normalised(value: str) -> str:
    """`value` in Unicode NFC (a lone surrogate stays as it is, for the rule to refuse)."""
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize(
        "NFC", value
    )


def email_problem(address: str) -> TextProblem | None:
    """Why `address` cannot be a delivery address qujat sends to, or None."""
    for index, char in enumerate(address):
        if not char.isascii():
            return TextProblem("email_not_ascii", _described(char, index + 1))
    local, _, _ = address.rpartition("@")
    if len(address) > MAX_EMAIL or len(local) > MAX_EMAIL_LOCAL:
        return TextProblem("bad_email")
    try:
        validate_email(
            address, check_deliverability=False, allow_smtputf8=False,
            allow_quoted_local=False, allow_domain_literal=False, allow_display_name=False,
        )
    except EmailNotValidError:
        return TextProblem("bad_email")
    return None
