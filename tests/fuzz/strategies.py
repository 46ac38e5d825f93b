"""Hypothesis strategies for what an outside caller can send: any JSON, hostile text (every
Unicode category, lone surrogates included), raw bytes, and small mutations of the valid
examples, which reach deeper into the validators than random documents do."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

# every category, the refused ones (controls, format, surrogates, private use, unassigned)
# included, and characters the text rule treats specially
HOSTILE_CHARACTERS = st.characters(codec=None) | st.characters(
    categories=["Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Zs", "Zl", "Zp"]
) | st.sampled_from("\u200b\u200e\u200f\u061c\u202e\u2066\ufeff\u00ad\u3164\u0301№«» -'.")
HOSTILE_TEXT = st.text(HOSTILE_CHARACTERS, max_size=40)

SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | HOSTILE_TEXT
    | st.sampled_from(["", "2026-11-23", "0001-01-01", "9999-12-31", "2026-02-30",
                       "2026-11-23T10:00:00+05:00", "790228470901", "kk", "ru", "pdf"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(HOSTILE_TEXT | st.sampled_from(["decision", "form", "iin", "date"]),
                      children, max_size=4),
    max_leaves=12,
)


def encoded(value: Any) -> bytes:
    """`value` as JSON bytes; a lone surrogate becomes its \\uXXXX escape, as a client sends it."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


@st.composite
def mutated(draw: st.DrawFn, original: Any) -> Any:
    """`original` (a JSON value) with one to three places replaced, removed or added."""
    value = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        value = _mutate_once(draw, value)
    return value


def _mutate_once(draw: st.DrawFn, value: Any) -> Any:
    if not isinstance(value, dict | list) or not value or draw(st.integers(0, 5)) == 0:
        return draw(JSON_VALUES)
    if isinstance(value, dict):
        key = draw(st.sampled_from(sorted(value)))
        action = draw(st.sampled_from(["descend", "descend", "descend", "drop", "add"]))
        if action == "drop":
            del value[key]
        elif action == "add":
            value[draw(HOSTILE_TEXT)] = draw(JSON_VALUES)
        else:
            value[key] = _mutate_once(draw, value[key])
        return value
    index = draw(st.integers(0, len(value) - 1))
    value[index] = _mutate_once(draw, value[index])
    return value


@st.composite
def flipped(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` with a few bytes changed, cut off, or repeated: a damaged file."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "flip", "truncate", "insert", "duplicate"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            end = min(len(data), at + draw(st.integers(1, 64)))
            data[at:at] = data[at:end]
    return bytes(data)
