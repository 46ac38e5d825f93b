"""What the public may see of a person: a masked name, never the IIN.

By a registration number alone the holder shows as "А******* А. Б."; the full name only to
someone holding the document's verification token (printed in its QR code) or who types the
holder's surname correctly.
"""

from __future__ import annotations

import hmac
import unicodedata

from service.forms.decisions import Person


def initials(person: Person) -> str:
    """ "А. Б." from the given name and patronymic."""
    return " ".join(f"{part[0]}." for part in (person.given_name, person.patronymic) if part)


def short_name(person: Person) -> str:
    """ "Ахметова А. Б." """
    return f"{person.surname} {initials(person)}".strip()


def masked_name(person: Person) -> str:
    """ "А******* А. Б.": the first letter of the surname, one star per other letter."""
    surname = person.surname
    masked = surname[0] + "*" * (len(surname) - 1)
    return f"{masked} {initials(person)}".strip()


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " ".join(folded.split())


def surname_matches(person: Person, typed: str) -> bool:
    """True when `typed` is the holder's surname (case, spacing and ё/е do not matter)."""
    return hmac.compare_digest(_normalise(person.surname).encode(), _normalise(typed).encode())
