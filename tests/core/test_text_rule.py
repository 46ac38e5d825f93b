"""The one text rule (service/text.py): what names and texts may hold, applied alike to
decisions, commissions and revocations; and the window of years a date may fall in."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from service.api.revocations import parse_revocation
from service.core.errors import Problem
from service.core.messages import MESSAGE_LANGUAGES, message
from service.core.text import TextKind, text_problem
from service.forms.decisions import InvalidDecision, parse_decision
from service.forms.vocabulary import Form
from service.signatures.commissions import parse_commission

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

# (text, code) pairs refused in a name and in any text alike
REFUSED_EVERYWHERE = [
    ("\u200b", "text_invisible"),  # zero-width space alone
    ("Ахметов\u200b", "text_invisible"),
    ("\u3164", "text_invisible"),  # Hangul filler: a "name" that prints as nothing
    ("\u3164\u3164", "text_invisible"),
    ("\u115f", "text_invisible"),
    ("\uffa0", "text_invisible"),
    ("\u2800", "text_invisible"),  # braille blank
    ("Ах\u034fметов", "text_invisible"),  # combining grapheme joiner
    ("Ахметов\ufe0f", "text_invisible"),  # variation selector
    ("\u200eАхметов", "text_invisible"),  # LRM
    ("Ахметов\u200f", "text_invisible"),  # RLM
    ("\u061cАхметов", "text_invisible"),  # ALM
    ("\u202eвотемха", "text_invisible"),  # RLO
    ("\u2066Ахметов\u2069", "text_invisible"),  # LRI … PDI
    ("\ufeffАхметов", "text_invisible"),  # BOM / ZWNBSP
    ("Ах\u2060метов", "text_invisible"),  # word joiner
    ("Ах\u00adметов", "text_invisible"),  # soft hyphen
    ("Ах\u200dметов", "text_invisible"),  # zero-width joiner
    ("Ах\u200cметов", "text_invisible"),  # zero-width non-joiner
    ("Ахметов\U000e0041", "text_invisible"),  # tag character
    ("Ахметов\uffff", "text_not_a_character"),  # noncharacter
    ("Ахметов\ufdd0", "text_not_a_character"),
    ("Ахметов\U0010fffe", "text_not_a_character"),
    ("Ахметов\ue000", "text_not_a_character"),  # private use
    ("Ахметов\U000f0000", "text_not_a_character"),  # supplementary private use
    ("Ахметов\u0378", "text_not_a_character"),  # unassigned
    ("Ахметов\ud800", "text_not_a_character"),  # lone surrogate
    ("\u0301", "text_mark_without_letter"),  # a lone combining mark
    ("\u0301Ахметов", "text_mark_without_letter"),  # a mark at the start
    ("Ахметов \u0301", "text_mark_without_letter"),  # a mark after a space
    ("a\u0301\u0301\u0301\u0301", "text_mark_without_letter"),  # zalgo
    ("Ахметов\tА", "text_control"),
    ("Ахметов\nА", "text_control"),
    ("Ахметов\x7f", "text_control"),
    ("Ахметов\x85", "text_control"),  # C1 next line
    ("Ахметов\u2028А", "text_control"),
    ("Ахметов ", "text_edge_space"),
    (" Ахметов", "text_edge_space"),
    ("Ахметов😀", "text_character_not_allowed"),
    ("Ахметов\u2003А", "text_character_not_allowed"),  # em space
]

ALLOWED_NAMES = [
    "Ахметов", "Әбдірахманова", "Ғалымжан", "Үмбетқұлов", "Иванов-Петров", "Д'Артаньян",
    "О’Нил", "Абай Құнанбайұлы", "Ирина Сергеевна", "Jürgen", "Ж. Б.",
    "и\u0306", "Ayaģöz", "Qazaqstan", "A\u0301", "김민준",
]
ALLOWED_TEXTS = [
    "Қарағанды облысы білім басқармасының «№ 5 жалпы білім беретін мектебі» КММ",
    "№ 153 / № 354/НҚ от 20.06.2024", "учитель математики (0,5 ставки)", "А-17",
    "Портфолио: 2 из 3 — не представлено; см. п. 20", "20\u00a0июня", "100 %", "5 000 ₸",
    "Сертификат ©, °C", "x + y = z", "ҚР БҒМ; e-mail: info@example.kz",
]


@pytest.mark.parametrize(("text", "code"), REFUSED_EVERYWHERE)
def test_refused_in_names_and_texts(text: str, code: str) -> None:
    for kind in TextKind:
        found = text_problem(text, kind)
        assert found is not None, (text, kind)
        assert found.code == code, (text, kind)


@pytest.mark.parametrize("name", ALLOWED_NAMES)
def test_names_people_really_have(name: str) -> None:
    assert text_problem(name, TextKind.NAME) is None
    assert text_problem(name, TextKind.TEXT) is None


@pytest.mark.parametrize("text", ALLOWED_TEXTS)
def test_texts_official_documents_really_carry(text: str) -> None:
    assert text_problem(text, TextKind.TEXT) is None


def test_a_no_break_space_is_for_texts_and_never_at_an_edge() -> None:
    edge = text_problem("20\u00a0июня\u00a0", TextKind.TEXT)
    assert edge is not None
    assert edge.code == "text_edge_space"
    name = text_problem("Ахмет\u00a0Бек", TextKind.NAME)
    assert name is not None
    assert name.code == "text_character_not_allowed"


@pytest.mark.parametrize(
    ("name", "code"),
    [("Иванов2", "text_character_not_allowed"), ("№ 5", "text_character_not_allowed"),
     ("Иванов!", "text_character_not_allowed"), ("-", "text_no_letter"),
     ("' .", "text_no_letter")],
)
def test_a_name_has_letters_and_no_digits(name: str, code: str) -> None:
    found = text_problem(name, TextKind.NAME)
    assert found is not None
    assert found.code == code


def test_the_problem_names_the_character_and_its_position() -> None:
    found = text_problem("Ах\u200bметов")
    assert found is not None
    assert found.params == {"character": "U+200B ZERO WIDTH SPACE", "position": 3}
    for code in ("text_invisible", "text_not_a_character", "text_control",
                 "text_mark_without_letter", "text_character_not_allowed"):
        for language in MESSAGE_LANGUAGES:
            assert "U+200B" in message(code, language, found.params)
    for code in ("text_edge_space", "text_no_letter", "date_out_of_range"):
        assert all(message(code, language, {"earliest": "a", "latest": "b"})
                   for language in MESSAGE_LANGUAGES)


# --------------------------------------------------------------------------- applied


def certificate() -> dict[str, Any]:
    loaded = json.loads((EXAMPLES / "certificate.kk.json").read_text("utf-8"))
    return copy.deepcopy(loaded["decision"])


def decision_codes(payload: Any, form: Form = Form.CERTIFICATE) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDecision) as caught:
        parse_decision(form, payload, clock=lambda: NOW)
    return [(v.pointer, v.code) for v in caught.value.violations]


def revocation_codes(payload: Any) -> list[tuple[str, str]]:
    with pytest.raises(Problem) as caught:
        parse_revocation(payload, TODAY)
    return [(v.pointer, v.code) for v in caught.value.violations]


@pytest.mark.parametrize(("text", "code"), REFUSED_EVERYWHERE)
def test_decisions_and_revocations_refuse_the_same_texts(text: str, code: str) -> None:
    holder = certificate()
    holder["holder"]["surname"] = text
    assert decision_codes(holder) == [("/holder/surname", code)]
    organisation = certificate()
    organisation["organisation"] = text
    assert decision_codes(organisation) == [("/organisation", code)]
    act = {"number": "А-17", "date": "2026-11-20"}
    assert revocation_codes({"reason": text, "act": act}) == [("/reason", code)]
    assert revocation_codes({"reason": "r", "act": dict(act, number=text)}) == [
        ("/act/number", code)
    ]


def test_names_of_every_form_follow_the_rule_for_names() -> None:
    protocol = json.loads((EXAMPLES / "protocol.kk.json").read_text("utf-8"))["decision"]
    protocol["commission"]["members"][1]["given_name"] = "Айгүл2"
    protocol["rows"][0]["person"]["patronymic"] = "\u3164"
    protocol["rows"][0]["position"] = "мұғалім №2"  # a text: a digit and № are fine
    assert decision_codes(protocol, Form.PROTOCOL) == [
        ("/commission/members/1/given_name", "text_character_not_allowed"),
        ("/rows/0/person/patronymic", "text_invisible"),
    ]


def test_allowed_texts_still_make_a_decision() -> None:
    payload = certificate()
    payload["holder"]["surname"] = "Иванов-Петров"
    payload["organisation"] = ALLOWED_TEXTS[0]
    parsed = parse_decision(Form.CERTIFICATE, payload, clock=lambda: NOW)
    assert parsed.holder.surname == "Иванов-Петров"  # type: ignore[union-attr]


def test_a_commission_follows_the_same_rule() -> None:
    loaded = json.loads((EXAMPLES / "commission.json").read_text("utf-8"))
    loaded["members"][2]["surname"] = "\u200b"
    loaded["members"][3]["position"] = "мұғалім\u202e"
    loaded["name"]["ru"] = "Комиссия\uffff"
    with pytest.raises(InvalidDecision) as caught:
        parse_commission(loaded, clock=lambda: NOW)
    assert sorted((v.pointer, v.code) for v in caught.value.violations) == [
        ("/members/2/surname", "text_invisible"),
        ("/members/3/position", "text_invisible"),
        ("/name/ru", "text_not_a_character"),
    ]


# --------------------------------------------------------------------------- IIN of members


def test_a_commission_members_iin_needs_its_check_digit() -> None:
    loaded = json.loads((EXAMPLES / "commission.json").read_text("utf-8"))
    good = loaded["members"][1]["iin"]
    loaded["members"][1]["iin"] = good[:11] + str((int(good[11]) + 1) % 10)
    secretary = loaded["secretary"]["iin"]
    loaded["secretary"]["iin"] = secretary[:11] + str((int(secretary[11]) + 1) % 10)
    with pytest.raises(InvalidDecision) as caught:
        parse_commission(loaded, clock=lambda: NOW)
    assert [(v.pointer, v.code) for v in caught.value.violations] == [
        ("/members/1/iin", "iin_checksum"), ("/secretary/iin", "iin_checksum")
    ]


# --------------------------------------------------------------------------- the date window


@pytest.mark.parametrize("day", ["0001-01-01", "0133-05-05", "1990-12-31"])
def test_absurd_years_are_refused_in_a_certificate(day: str) -> None:
    payload = certificate()
    payload["commission_decision_date"] = day
    assert decision_codes(payload) == [("/commission_decision_date", "date_out_of_range")]


def test_the_window_is_1991_to_2100() -> None:
    payload = certificate()
    payload["commission_decision_date"] = "1991-01-01"
    payload["order"]["date"] = "1991-01-02"
    payload["issue_date"] = "1991-01-03"
    payload.pop("valid_until", None)
    parse_decision(Form.CERTIFICATE, payload, clock=lambda: NOW)
    late = certificate()
    late["valid_until"] = "2101-01-01"
    assert ("/valid_until", "date_out_of_range") in decision_codes(late)


def test_absurd_moments_are_refused_in_a_notice() -> None:
    notice = json.loads((EXAMPLES / "acceptance.kk.json").read_text("utf-8"))["decision"]
    notice["application_received_at"] = "0077-01-01T09:00:00+05:00"
    assert decision_codes(notice, Form.ACCEPTANCE) == [
        ("/application_received_at", "date_out_of_range")
    ]


def test_a_commission_whose_term_ends_in_the_year_77_is_refused() -> None:
    loaded = json.loads((EXAMPLES / "commission.json").read_text("utf-8"))
    loaded["term_end"] = "0077-01-15"
    with pytest.raises(InvalidDecision) as caught:
        parse_commission(loaded, clock=lambda: NOW)
    assert [(v.pointer, v.code) for v in caught.value.violations] == [
        ("/term_end", "date_out_of_range")
    ]
    loaded = json.loads((EXAMPLES / "commission.json").read_text("utf-8"))
    loaded["order"]["date"] = "0076-01-15"
    loaded.pop("term_end", None)
    with pytest.raises(InvalidDecision) as caught:
        parse_commission(loaded, clock=lambda: NOW)
    assert [(v.pointer, v.code) for v in caught.value.violations] == [
        ("/order/date", "date_out_of_range")
    ]


def test_a_revocation_act_dated_in_the_year_133_is_refused() -> None:
    assert revocation_codes({"reason": "r", "act": {"number": "1", "date": "0133-01-01"}}) == [
        ("/act/date", "date_out_of_range")
    ]
