"""Schemathesis hooks for the contract test (loaded through SCHEMATHESIS_HOOKS).

`schema_valid_requests_are_accepted` is our positive-data check. A request that is valid by
the OpenAPI document may still be refused for what a schema cannot say: these are the
documented business refusals, and they are allowed:

- 404 (an unknown id: the generated ids name no document, commission or batch),
- 409 (a state conflict: not signed yet, already revoked, a decision issued differently…),
- 422 whose violations are all rules of the act or of the registry (a date in the future,
  a category that does not follow the outcome, no quorum, an IIN whose check digit fails,
  a signature that does not verify…), or an Idempotency-Key reused with another body,
- 503 `signing-unavailable` (the test server has no trust folder).

Anything else is a disagreement between the document and the server and fails: 400, 413,
415, or a 422 naming a shape rule (required, type, enum, unknown_field, too_long, bad_text,
bad_format, bad_date, an empty batch…) — the document must then say what the server really accepts.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import schemathesis

# the codes of shape rules: a schema can say them, so a schema-valid request never earns one
SHAPE_CODES = frozenset({
    "required", "unknown_field", "type", "enum", "too_short", "too_long", "bad_format",
    "bad_text", "bad_date", "bad_datetime", "invalid", "malformed_json", "unsupported_media_type",
    "too_large", "upload_missing", "batch_media_type", "batch_not_a_list", "batch_empty",
    "batch_too_many",
})
ALLOWED_STATUSES = frozenset({404, 409})


def _at(body: Any, pointer: str) -> Any:
    node = body
    for part in pointer.lstrip("/").split("/") if pointer else ():
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _known_text_gap(case: Any, violation: dict[str, Any]) -> bool:
    """`bad_text` for invisible format characters (U+200B, U+2060, U+FEFF, …): the schemas'
    text pattern refuses control and bidirectional characters but not yet every format
    character the server refuses. The single text rule for every field will make the two
    agree; until then this one input class is not counted as a mismatch."""
    if violation.get("code") != "bad_text":
        return False
    try:
        value = _at(case.body, violation.get("pointer", ""))
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return isinstance(value, str) and any(unicodedata.category(c) == "Cf" for c in value)


@schemathesis.check
def schema_valid_requests_are_accepted(ctx: Any, response: Any, case: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    status = response.status_code
    if status < 400 or status in ALLOWED_STATUSES:
        return
    try:
        problem = json.loads(response.content)
    except ValueError:
        problem = {}
    if status == 503 and problem.get("type", "").endswith("/signing-unavailable"):
        return
    if status == 422:
        violations = problem.get("errors") or []
        if not violations and problem.get("type", "").endswith("/idempotency-key-reused"):
            return
        refused = [v for v in violations
                   if v.get("code") in SHAPE_CODES and not _known_text_gap(case, v)]
        if violations and not refused:
            return
    raise AssertionError(
        f"A request valid by the OpenAPI document was refused with {status}: "
        f"{response.content[:2000]!r}"
    )
