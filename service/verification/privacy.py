"""What the public may see of a person: nothing by a registration number alone, never the IIN.

A verify page reached by its number alone shows the document (type, issuing body, status,
order, dates, signatures) but nothing of its holder: no name, not even masked, no position,
workplace, category or outcome, and no revocation reason. Those are the columns of the
published list (p. 20), so any part of them would let the list unmask the page
(docs/verification-privacy.md). The holder's facts are shown to someone holding the document's
verification token (printed in its QR code), its exact bytes, or who types the holder's surname.

Free text shown on a public page goes through `public_text`: a number that looks like an IIN
(twelve digits, perhaps grouped) is blanked, whatever field it was typed into.
"""

from __future__ import annotations

import hmac
import re
import unicodedata

from service.forms.decisions import Person


def initials(person: Person) -> str:
    """ "А. Б." from the given name and patronymic."""
    return " ".join(f"{part[0]}." for part in (person.given_name, person.patronymic) if part)


def short_name(person: Person) -> str:
    """ "Ахметова А. Б." """
    return f"{person.surname} {initials(person)}".strip()


# twelve digits or more, alone or grouped by single spaces, dashes or dots ("850314 300003"):
# an IIN or a BIN, or something too close to one to show
_IDENTIFIER = re.compile(r"(?<!\d)\d(?:[ \u00a0.\-]?\d){11,}(?!\d)")
IDENTIFIER_BLANKED = "[***]"


def public_text(text: str) -> str:
    """`text` as a public page may show it: every IIN-like number blanked."""
    return _IDENTIFIER.sub(IDENTIFIER_BLANKED, text)


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " ".join(folded.split())


def surname_matches(person: Person, typed: str) -> bool:
    """True when `typed` is the holder's surname (case, spacing and ё/е do not matter)."""
    return hmac.compare_digest(_normalise(person.surname).encode(), _normalise(typed).encode())
