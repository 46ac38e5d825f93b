"""The closed vocabularies of the act: forms, categories, outcomes, and their printed names.

Enum values are the stable identifiers platforms send in JSON; the labels are the words the
forms print in Kazakh (the act's own text) and Russian (the 2025 Rules, see
shared/forms/ru_reference.md, §8-9).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Language = Literal["kk", "ru"]
LANGUAGES: tuple[Language, ...] = ("kk", "ru")


class Form(StrEnum):
    """The appendix forms qujat produces; the value is also the template and schema name."""

    CERTIFICATE = "certificate"  # appendix 1
    PROTOCOL = "protocol"  # appendix 2
    EXTRACT = "extract"  # appendix 3
    ACCEPTANCE = "acceptance"  # appendix 6
    REFUSAL = "refusal"  # appendix 7
    HEADS_PROTOCOL = "heads_protocol"  # appendix 12
    HEADS_EXTRACT = "heads_extract"  # appendix 13

    @property
    def appendix(self) -> int:
        return _APPENDIX[self]


_APPENDIX = {
    Form.CERTIFICATE: 1,
    Form.PROTOCOL: 2,
    Form.EXTRACT: 3,
    Form.ACCEPTANCE: 6,
    Form.REFUSAL: 7,
    Form.HEADS_PROTOCOL: 12,
    Form.HEADS_EXTRACT: 13,
}


class TeacherCategory(StrEnum):
    """Teachers' ladder, lowest first (p. 5); `intern` is the entry status, never awarded."""

    INTERN = "intern"
    TEACHER = "teacher"
    MODERATOR = "moderator"
    EXPERT = "expert"
    RESEARCHER = "researcher"
    MASTER = "master"

    @property
    def rank(self) -> int:
        return list(TeacherCategory).index(self)


class HeadCategory(StrEnum):
    """Heads' and deputies' categories (p. 13, p. 48-49); third is the lowest."""

    HEAD_3 = "head_3"
    HEAD_2 = "head_2"
    HEAD_1 = "head_1"
    DEPUTY_3 = "deputy_3"
    DEPUTY_2 = "deputy_2"
    DEPUTY_1 = "deputy_1"

    @property
    def is_first_head(self) -> bool:
        return self.value.startswith("head_")

    @property
    def rank(self) -> int:
        return 3 - int(self.value[-1])

    def same_ladder(self, other: HeadCategory) -> bool:
        return self.is_first_head == other.is_first_head


Category = TeacherCategory | HeadCategory


class TeacherOutcome(StrEnum):
    """The four tables of form 2 (p. 19)."""

    CORRESPONDS_DECLARED = "corresponds_declared"
    NOT_CORRESPONDS_DECLARED = "not_corresponds_declared"
    CORRESPONDS_CURRENT = "corresponds_current"
    CORRESPONDS_BELOW_CURRENT = "corresponds_below_current"


class HeadOutcome(StrEnum):
    """Heads' outcomes (p. 46); form 12 prints the first three in table 1, the last in table 2."""

    CORRESPONDS_DECLARED = "corresponds_declared"
    CORRESPONDS_CURRENT = "corresponds_current"
    CORRESPONDS_BELOW_DECLARED = "corresponds_below_declared"
    NOT_CORRESPONDS = "not_corresponds"


class AttestationKind(StrEnum):
    """Form 2's column "Кезекті / мерзімінен бұрын" (p. 42, p. 47)."""

    REGULAR = "regular"
    EARLY = "early"


class Grant(StrEnum):
    """A new category ("берілді") or the held one confirmed ("расталды")."""

    AWARD = "award"
    CONFIRMATION = "confirmation"


_LABELS: dict[str, dict[Language, str]] = {
    # teachers' categories
    "intern": {"kk": "педагог-тағылымдамашы", "ru": "педагог-стажер"},
    "teacher": {"kk": "педагог", "ru": "педагог"},
    "moderator": {"kk": "педагог-модератор", "ru": "педагог-модератор"},
    "expert": {"kk": "педагог-сарапшы", "ru": "педагог-эксперт"},
    "researcher": {"kk": "педагог-зерттеуші", "ru": "педагог-исследователь"},
    "master": {"kk": "педагог-шебер", "ru": "педагог-мастер"},
    # heads' categories
    "head_3": {"kk": "үшінші санаттағы басшы", "ru": "руководитель третьей категории"},
    "head_2": {"kk": "екінші санаттағы басшы", "ru": "руководитель второй категории"},
    "head_1": {"kk": "бірінші санаттағы басшы", "ru": "руководитель первой категории"},
    "deputy_3": {
        "kk": "басшының үшінші санаттағы орынбасары",
        "ru": "заместитель руководителя третьей категории",
    },
    "deputy_2": {
        "kk": "басшының екінші санаттағы орынбасары",
        "ru": "заместитель руководителя второй категории",
    },
    "deputy_1": {
        "kk": "басшының бірінші санаттағы орынбасары",
        "ru": "заместитель руководителя первой категории",
    },
    # attestation kind
    "regular": {"kk": "кезекті", "ru": "очередная"},
    "early": {"kk": "мерзімінен бұрын", "ru": "досрочная"},
}

_TEACHER_OUTCOMES: dict[TeacherOutcome, dict[Language, str]] = {
    TeacherOutcome.CORRESPONDS_DECLARED: {
        "kk": "Мәлімделген біліктілік санатына сәйкес келеді",
        "ru": "Соответствует заявляемой квалификационной категории",
    },
    TeacherOutcome.NOT_CORRESPONDS_DECLARED: {
        "kk": "Мәлімделген біліктілік санатына сәйкес келмейді",
        "ru": "Не соответствует заявляемой квалификационной категории",
    },
    TeacherOutcome.CORRESPONDS_CURRENT: {
        "kk": "Қолданыстағы біліктілік санатына сәйкес келеді",
        "ru": "Соответствует действующей квалификационной категории",
    },
    TeacherOutcome.CORRESPONDS_BELOW_CURRENT: {
        "kk": "Қолданыстағы біліктілік санатынан төмен санатқа сәйкес келеді",
        "ru": "Соответствует квалификационной категории ниже действующей",
    },
}

_HEAD_OUTCOMES: dict[HeadOutcome, dict[Language, str]] = {
    HeadOutcome.CORRESPONDS_DECLARED: {
        "kk": "мәлімделген біліктілік санатына сәйкес келеді",
        "ru": "соответствует заявляемой квалификационной категории",
    },
    HeadOutcome.CORRESPONDS_CURRENT: {
        "kk": "қолданыстағы біліктілік санатына сәйкес келеді",
        "ru": "соответствует действующей квалификационной категории",
    },
    HeadOutcome.CORRESPONDS_BELOW_DECLARED: {
        "kk": "мәлімделгеннен төмен біліктілік санатына сәйкес келеді",
        "ru": "соответствует квалификационной категории ниже заявляемой",
    },
    HeadOutcome.NOT_CORRESPONDS: {
        "kk": "мәлімделген біліктілік санатына сәйкес емес",
        "ru": "не соответствует заявляемой квалификационной категории",
    },
}


# who signs a document (service.signatures.intake records these codes)
_SIGNER_ROLES: dict[str, dict[Language, str]] = {
    "chair": {"kk": "комиссия төрағасы", "ru": "председатель комиссии"},
    "member": {"kk": "комиссия мүшесі", "ru": "член комиссии"},
    "secretary": {"kk": "комиссия хатшысы", "ru": "секретарь комиссии"},
    "head_of_organisation": {"kk": "ұйым басшысы", "ru": "руководитель организации"},
    "authorised_person": {"kk": "уәкілетті тұлға", "ru": "уполномоченное лицо"},
}


# the name of each form as a reader knows it (verify pages, signature reports)
FORM_NAMES: dict[Form, dict[Language, str]] = {
    Form.CERTIFICATE: {
        "kk": "Біліктілік санатын беру (растау) туралы куәлік",
        "ru": "Удостоверение о присвоении (подтверждении) квалификационной категории",
    },
    Form.PROTOCOL: {
        "kk": "Аттестаттау комиссиясы отырысының хаттамасы",
        "ru": "Протокол заседания аттестационной комиссии",
    },
    Form.EXTRACT: {"kk": "Хаттамадан үзінді", "ru": "Выписка из протокола"},
    Form.ACCEPTANCE: {
        "kk": "Өтініштің қабылданғаны туралы хабарлама",
        "ru": "Уведомление о приёме заявления",
    },
    Form.REFUSAL: {
        "kk": "Өтінішті қабылдаудан бас тарту туралы хабарлама",
        "ru": "Уведомление об отказе в приёме заявления",
    },
    Form.HEADS_PROTOCOL: {
        "kk": "Басшыларды аттестаттау комиссиясы отырысының хаттамасы",
        "ru": "Протокол заседания аттестационной комиссии (руководители)",
    },
    Form.HEADS_EXTRACT: {
        "kk": "Хаттамадан үзінді (басшылар)",
        "ru": "Выписка из протокола (руководители)",
    },
}


def signer_role_label(role: str, language: Language) -> str:
    """A signer's role as people say it ("комиссия хатшысы"); an unknown code as it is."""
    return _SIGNER_ROLES.get(role, {}).get(language, role)


def label(value: StrEnum, language: Language) -> str:
    """The printed name of a category, outcome or attestation kind in `language`."""
    if isinstance(value, TeacherOutcome):
        return _TEACHER_OUTCOMES[value][language]
    if isinstance(value, HeadOutcome):
        return _HEAD_OUTCOMES[value][language]
    return _LABELS[value.value][language]


def parse_category(value: str) -> Category:
    """A category from its JSON identifier, whichever ladder it belongs to."""
    try:
        return TeacherCategory(value)
    except ValueError:
        return HeadCategory(value)
