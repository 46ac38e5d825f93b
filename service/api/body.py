"""Reading a JSON request body defensively.

The body must be declared as JSON, fit the configured size, be UTF-8, and be strict JSON:
no NaN/Infinity, no duplicate keys (which different parsers resolve differently), no absurd
nesting, no lone surrogate (`"\\ud800"`: valid JSON syntax, but not a character, and no
UTF-8 can hold it). Each failure is a problem with its own status: 415, 413 or 400. Every
string, keys included, comes out in Unicode NFC (see service/text.py).
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request

from service.core.errors import Problem, single
from service.core.text import normalised
from service.forms.decisions import Violation

_MAX_DEPTH = 32


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _has_surrogate(text: str) -> bool:
    return not text.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _normalised(value: Any, pointer: str, found: list[Violation]) -> Any:
    """`value` with every string in NFC; a string or key holding a lone surrogate is
    recorded in `found` (a key by its object's pointer: the key itself cannot be written)."""
    if isinstance(value, str):
        if _has_surrogate(value):
            found.append(Violation(pointer, "lone_surrogate"))
            return value
        return normalised(value)
    if isinstance(value, list):
        return [_normalised(item, f"{pointer}/{i}", found) for i, item in enumerate(value)]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if _has_surrogate(key):
                found.append(Violation(pointer, "lone_surrogate_key"))
                continue
            result[normalised(key)] = _normalised(item, f"{pointer}/{_escape(key)}", found)
        return result
    return value


def parse_json_bytes(raw: bytes) -> Any:
    """Strict JSON from bytes, or a 400 problem saying what is wrong."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise single(400, "malformed-json", "malformed_json", "", detail="not UTF-8") from None
    except RecursionError:
        raise single(
            400, "malformed-json", "malformed_json", "", detail="nested too deeply"
        ) from None
    except ValueError as error:
        raise single(400, "malformed-json", "malformed_json", "", detail=str(error)) from None
    if _depth(value, _MAX_DEPTH) > _MAX_DEPTH:
        raise single(400, "malformed-json", "malformed_json", "", detail="nested too deeply")
    surrogates: list[Violation] = []
    value = _normalised(value, "", surrogates)
    if surrogates:
        raise Problem(400, "malformed-json", "A JSON string holds a lone surrogate.", surrogates)
    return value


def json_body() -> Any:
    """The request's JSON body after the content-type and size checks."""
    if request.mimetype != "application/json":
        raise single(415, "unsupported-media-type", "unsupported_media_type")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise single(413, "too-large", "too_large", "", limit=limit)
    return parse_json_bytes(request.get_data(cache=True))
