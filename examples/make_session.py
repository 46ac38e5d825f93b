"""Generate examples/session.ndjson: one commission session's extracts and certificates.

    .venv/bin/python examples/make_session.py            # rewrites examples/session.ndjson
    .venv/bin/python examples/make_session.py -n 500 --certificates-only -o /tmp/500.ndjson
    .venv/bin/python examples/make_session.py -n 60 --protocol ru -o /tmp/protocol-60.ru.json

Built from examples/{extract,certificate}.{kk,ru}.json: every teacher of the session gets an
extract (form 3), and those whose declared category was awarded or confirmed a certificate
(form 1), in the teacher's language, with distinct invented people and decision ids. Three
items are wrong on purpose (a mistyped IIN, the entry status "awarded", a refusal without its
reason), so that `qujat batch submit` shows how failed items are reported. The output is
deterministic (a fixed seed), so the file can be committed.

With `--protocol kk|ru` it writes instead one render request: the session's protocol (form 2)
with a row per teacher, the hard case for page layout: double surnames, positions that name
the whole school, every outcome, reasons in the "does not correspond" table.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent
LADDER = ["teacher", "moderator", "expert", "researcher", "master"]

SURNAMES_KK = [
    "Ахметова",
    "Серікбаев",
    "Жұмабекова",
    "Нұрланов",
    "Қасымова",
    "Тоқтаров",
    "Әбенова",
    "Байжанов",
    "Омарова",
    "Сейітов",
    "Исаева",
    "Мұратов",
    "Бекова",
    "Қайыров",
    "Сәрсенова",
    "Ержанов",
    "Төлеуова",
    "Әлиев",
    "Дүйсенова",
    "Жақсылықов",
]
GIVEN_KK = [
    "Айгүл",
    "Дәурен",
    "Әсел",
    "Ерлан",
    "Гүлнар",
    "Нұржан",
    "Жанар",
    "Бауыржан",
    "Сәуле",
    "Асқар",
    "Динара",
    "Марат",
    "Мөлдір",
    "Қайрат",
    "Айжан",
    "Серік",
]
PATRONYMICS_KK = ["Бекқызы", "Ерланұлы", "Қайратқызы", "Асқарұлы", "Маратқызы", "Серікұлы"]
SURNAMES_RU = [
    "Иванова",
    "Ким",
    "Петренко",
    "Смагулова",
    "Шевченко",
    "Волкова",
    "Цой",
    "Морозов",
    "Пак",
    "Кузнецова",
    "Литвиненко",
    "Соколов",
]
GIVEN_RU = ["Елена", "Андрей", "Ольга", "Сергей", "Наталья", "Виктор", "Ирина", "Дмитрий"]
PATRONYMICS_RU = ["Викторовна", "Сергеевич", "Александровна", "Николаевич", "Ивановна"]
POSITIONS_KK = [
    "математика пәнінің мұғалімі",
    "қазақ тілі мен әдебиеті пәнінің мұғалімі",
    "бастауыш сынып мұғалімі",
    "физика пәнінің мұғалімі",
    "тарих пәнінің мұғалімі",
    "ағылшын тілі пәнінің мұғалімі",
    "информатика пәнінің мұғалімі",
]
POSITIONS_RU = [
    "учитель математики",
    "учитель русского языка и литературы",
    "учитель начальных классов",
    "учитель физики",
    "учитель истории",
    "учитель английского языка",
    "учитель информатики",
]
SCHOOLS = [
    (
        "«Қарағанды қаласының № {n} жалпы білім беретін мектебі» КММ",
        "КГУ «Общеобразовательная школа № {n} города Караганды»",
    ),
    (
        "«Теміртау қаласының № {n} жалпы білім беретін мектебі» КММ",
        "КГУ «Общеобразовательная школа № {n} города Темиртау»",
    ),
]
REASONS = {
    "kk": "портфолио бойынша жинаған балы мәлімделген санат үшін белгіленген шекті деңгейден төмен",
    "ru": "балл по портфолио ниже порогового значения для заявляемой категории",
}


def iin(rng: random.Random, female: bool) -> str:
    """A valid IIN (p. DOMAIN: birth date, century and sex, serial, check digit)."""
    while True:
        year, month, day = rng.randint(1965, 1999), rng.randint(1, 12), rng.randint(1, 28)
        serial = rng.randint(0, 9999)
        first = f"{year % 100:02d}{month:02d}{day:02d}{4 if female else 3}{serial:04d}"
        digits = [int(c) for c in first]
        check = sum(w * d for w, d in zip(range(1, 12), digits, strict=True)) % 11
        if check == 10:
            weights = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
            check = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        if check != 10:
            return first + str(check)


def person(rng: random.Random, language: str, taken: set[str]) -> dict[str, str]:
    while True:
        if language == "kk":
            surname, given = rng.choice(SURNAMES_KK), rng.choice(GIVEN_KK)
            patronymic = rng.choice(PATRONYMICS_KK)
            female = patronymic.endswith("қызы")
        else:
            surname, given = rng.choice(SURNAMES_RU), rng.choice(GIVEN_RU)
            patronymic = rng.choice(PATRONYMICS_RU)
            female = patronymic.endswith("вна")
        number = iin(rng, female)
        if number not in taken:
            taken.add(number)
            return {
                "surname": surname,
                "given_name": given,
                "patronymic": patronymic,
                "iin": number,
            }


def load(form: str, language: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{form}.{language}.json").read_text("utf-8"))
    return loaded


def session(teachers: int, certificates_only: bool, with_errors: bool) -> list[dict[str, Any]]:
    rng = random.Random(20260814)  # noqa: S311 - invented people, not secrets
    taken: set[str] = set()
    items: list[dict[str, Any]] = []
    for n in range(1, teachers + 1):
        language = "kk" if rng.random() < 0.7 else "ru"
        who = person(rng, language, taken)
        school = rng.choice(SCHOOLS)[0 if language == "kk" else 1].format(n=rng.randint(1, 99))
        position = rng.choice(POSITIONS_KK if language == "kk" else POSITIONS_RU)
        current = rng.randint(0, 3)
        declared = min(current + rng.choice([0, 1, 1, 1]), 4)
        passed = certificates_only or rng.random() < 0.8
        if not certificates_only:
            extract = load("extract", language)
            decision = extract["decision"]
            decision["decision_id"] = f"krg-2026-s05-extract-{n:04d}"
            decision["person"] = who
            decision["position"] = position
            decision["current_category"] = LADDER[current]
            decision["declared_category"] = LADDER[declared]
            if passed:
                decision["outcome"] = "corresponds_declared"
                decision["awarded_category"] = LADDER[declared]
                decision.pop("reason", None)
            else:
                decision["outcome"] = "not_corresponds_declared"
                decision["awarded_category"] = LADDER[current]
                decision["reason"] = REASONS[language]
            items.append(extract)
        if passed:
            certificate = load("certificate", language)
            decision = certificate["decision"]
            decision["decision_id"] = f"krg-2026-s05-cert-{n:04d}"
            decision["holder"] = copy.deepcopy(who)
            decision["position"] = position
            decision["organisation"] = school
            decision["category"] = LADDER[declared]
            decision["grant"] = "confirmation" if declared == current else "award"
            items.append(certificate)
    if with_errors:
        items[17]["decision"][_holder(items[17])]["iin"] = "850314422011"  # check digit wrong
        _first(items, "certificate", 100)["decision"]["category"] = "intern"  # never awarded
        refused = _first(items, "extract", 200, outcome="not_corresponds_declared")
        del refused["decision"]["reason"]
    return items


def _holder(item: dict[str, Any]) -> str:
    return "holder" if item["form"] == "certificate" else "person"


def _first(items: list[dict[str, Any]], form: str, start: int, **match: str) -> dict[str, Any]:
    return next(
        i
        for i in items[start:]
        if i["form"] == form and all(i["decision"].get(k) == v for k, v in match.items())
    )


DOUBLE_SURNAMES = {
    "kk": ["Жақсылықова-Мұхаметжанова", "Әбдірахманов-Сейітқалиев", "Төлеубекова-Ержанова"],
    "ru": [
        "Константинопольская-Жумабекова",
        "Преображенский-Абдрахманов",
        "Старокоржевская-Нурмагамбетова",
    ],
}
OUTCOMES = [
    "corresponds_declared",
    "corresponds_declared",
    "corresponds_declared",
    "not_corresponds_declared",
    "corresponds_current",
    "corresponds_below_current",
]


def protocol(teachers: int, language: str) -> dict[str, Any]:
    """One protocol of `teachers` rows in `language` (form 2), long names and positions."""
    rng = random.Random(20260814)  # noqa: S311 - invented people, not secrets
    taken: set[str] = set()
    request = load("protocol", language)
    rows = []
    for n in range(teachers):
        who = person(rng, language, taken)
        if n % 3 == 0:
            who["surname"] = rng.choice(DOUBLE_SURNAMES[language])
        school = rng.choice(SCHOOLS)[0 if language == "kk" else 1].format(n=rng.randint(1, 99))
        position = rng.choice(POSITIONS_KK if language == "kk" else POSITIONS_RU)
        outcome = OUTCOMES[n % len(OUTCOMES)]
        current = rng.randint(1, 3)
        row: dict[str, Any] = {
            "person": who,
            "position": f"{position}, {school}" if n % 2 == 0 else position,
            "attestation": "early" if n % 5 == 0 else "regular",
            "current_category": LADDER[current],
            "declared_category": LADDER[current + 1],
            "outcome": outcome,
        }
        if outcome == "corresponds_declared":
            row["awarded_category"] = LADDER[current + 1]
        elif outcome == "not_corresponds_declared":
            row["awarded_category"] = LADDER[current]
            row["reason"] = REASONS[language]
        elif outcome == "corresponds_current":
            row["awarded_category"] = LADDER[current]
        else:
            row["declared_category"] = LADDER[current]
            row["awarded_category"] = LADDER[current - 1]
        rows.append(row)
    request["decision"]["decision_id"] = f"krg-2026-s05-protocol-{teachers}-{language}"
    request["decision"]["rows"] = rows
    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=EXAMPLES / "session.ndjson")
    parser.add_argument("-n", "--teachers", type=int, default=160)
    parser.add_argument(
        "--certificates-only", action="store_true", help="one certificate per teacher, no extracts"
    )
    parser.add_argument("--valid", action="store_true", help="leave out the wrong items")
    parser.add_argument(
        "--protocol",
        choices=["kk", "ru"],
        help="write one protocol request of N rows in this language instead",
    )
    args = parser.parse_args()
    if args.protocol:
        request = protocol(args.teachers, args.protocol)
        args.output.write_text(json.dumps(request, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(f"{args.output}: a protocol of {args.teachers} rows")
        return
    items = session(args.teachers, args.certificates_only, not args.valid)
    args.output.write_text(
        "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), "utf-8"
    )
    print(f"{args.output}: {len(items)} requests")


if __name__ == "__main__":
    main()
