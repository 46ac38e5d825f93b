"""Why a signature is refused: failure codes with messages in Kazakh, Russian and English.

A verifier never answers with a bare boolean; it lists `Failure` values, each naming the check
that failed (`FailureCode`) and giving a sentence a commission member can act on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

Lang = Literal["kk", "ru", "en"]
LANGUAGES: tuple[Lang, ...] = ("kk", "ru", "en")


class FailureCode(enum.StrEnum):
    """One code per check; the string values are stable and safe to store or send to clients."""

    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    SIGNER_COUNT = "signer_count"
    NO_CERTIFICATE = "no_certificate"
    CERT_MISMATCH = "cert_mismatch"
    CONTENT_MISMATCH = "content_mismatch"
    DIGEST_MISMATCH = "digest_mismatch"
    MISSING_SIGNED_ATTRS = "missing_signed_attrs"
    BAD_SIGNATURE = "bad_signature"
    WEAK_ALGORITHM = "weak_algorithm"
    WEAK_KEY = "weak_key"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNTRUSTED = "untrusted"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    REVOCATION_UNKNOWN = "revocation_unknown"
    KEY_USAGE = "key_usage"
    AUTH_KEY = "auth_key"
    IIN_MISMATCH = "iin_mismatch"
    NO_IIN = "no_iin"
    NO_CONTENT = "no_content"
    XML_UNSAFE = "xml_unsafe"
    XML_REFERENCE = "xml_reference"

    @property
    def indeterminate(self) -> bool:
        """True when the signature could not be judged either way (rather than judged bad)."""
        return self in _INDETERMINATE

    def message(self, lang: Lang = "en") -> str:
        return _MESSAGES[self][lang]


# The signature may well be good; we just cannot tell (yet): no revocation data, or an
# algorithm such as GOST that this library does not implement.
# A detached signature without its document cannot be judged either.
_INDETERMINATE = frozenset(
    {
        FailureCode.REVOCATION_UNKNOWN,
        FailureCode.UNSUPPORTED_ALGORITHM,
        FailureCode.NO_CONTENT,
    }
)


@dataclass(frozen=True)
class Failure:
    """A failed check. `detail` is a technical note for logs (English, may name an OID)."""

    code: FailureCode
    detail: str = ""

    def message(self, lang: Lang = "en") -> str:
        return self.code.message(lang)


_MESSAGES: dict[FailureCode, dict[Lang, str]] = {
    FailureCode.MALFORMED: {
        "kk": "Қолтаңба бүлінген немесе CMS қолтаңбасы емес "
        "(base64 кодталған CMS SignedData күтіледі).",
        "ru": "Подпись повреждена или не является подписью CMS "
        "(ожидается CMS SignedData в кодировке base64).",
        "en": "The signature is damaged or is not a CMS signature "
        "(base64-encoded CMS SignedData is expected).",
    },
    FailureCode.TOO_LARGE: {
        "kk": "Қолтаңба файлының көлемі рұқсат етілгеннен үлкен.",
        "ru": "Размер файла подписи превышает допустимый.",
        "en": "The signature file is larger than allowed.",
    },
    FailureCode.SIGNER_COUNT: {
        "kk": "Қолтаңбада дәл бір қол қоюшы болуы керек.",
        "ru": "Подпись должна содержать ровно одного подписанта.",
        "en": "The signature must contain exactly one signer.",
    },
    FailureCode.NO_CERTIFICATE: {
        "kk": "Қол қоюшының сертификаты қолтаңбаға енгізілмеген.",
        "ru": "Сертификат подписанта не включён в подпись.",
        "en": "The signer's certificate is not included in the signature.",
    },
    FailureCode.CERT_MISMATCH: {
        "kk": "Қолтаңбадағы сертификат қол қоюшыға сәйкес келмейді.",
        "ru": "Сертификат в подписи не соответствует подписанту.",
        "en": "The certificate in the signature does not belong to the signer.",
    },
    FailureCode.CONTENT_MISMATCH: {
        "kk": "Қолтаңбаға тіркелген құжат қол қойылуға тиіс құжаттан өзгеше.",
        "ru": "Документ, вложенный в подпись, отличается от документа, который нужно подписать.",
        "en": "The document attached to the signature differs from the document to be signed.",
    },
    FailureCode.DIGEST_MISMATCH: {
        "kk": "Қолтаңба басқа құжатқа қойылған немесе құжат қол қойылғаннан кейін өзгертілген.",
        "ru": "Подпись поставлена под другим документом, либо документ изменён после подписания.",
        "en": "The signature was made over another document, "
        "or the document was changed after signing.",
    },
    FailureCode.MISSING_SIGNED_ATTRS: {
        "kk": "Қолтаңбада міндетті қол қойылған атрибуттар (мазмұн түрі және хабарлама хеші) жоқ.",
        "ru": "В подписи нет обязательных подписанных атрибутов (тип содержимого и хеш сообщения).",
        "en": "The signature lacks the required signed attributes "
        "(content type and message digest).",
    },
    FailureCode.BAD_SIGNATURE: {
        "kk": "Қолтаңба мәні жарамсыз: қол қойылған деректер өзгертілген.",
        "ru": "Значение подписи неверно: подписанные данные были изменены.",
        "en": "The signature value is invalid: the signed data has been altered.",
    },
    FailureCode.WEAK_ALGORITHM: {
        "kk": "Қолтаңбада ескірген хэштеу алгоритмі (SHA-1 немесе MD5) қолданылған; "
        "SHA-256 арқылы қайта қол қойыңыз.",
        "ru": "В подписи использован устаревший алгоритм хеширования (SHA-1 или MD5); "
        "подпишите документ заново с SHA-256.",
        "en": "The signature uses an obsolete hash algorithm (SHA-1 or MD5); "
        "sign the document again with SHA-256.",
    },
    FailureCode.WEAK_KEY: {
        "kk": "Қол қоюшының кілті тым қысқа: RSA кілті кемінде 2048 бит болуы керек.",
        "ru": "Ключ подписанта слишком короткий: длина ключа RSA должна быть не менее 2048 бит.",
        "en": "The signer's key is too short: an RSA key must be at least 2048 bits long.",
    },
    FailureCode.UNSUPPORTED_ALGORITHM: {
        "kk": "Қолтаңба алгоритміне (мысалы, ГОСТ) әзірге қолдау көрсетілмейді; "
        "құжатқа RSA кілтімен қол қойыңыз.",
        "ru": "Алгоритм подписи (например, ГОСТ) пока не поддерживается; "
        "подпишите документ ключом RSA.",
        "en": "The signature algorithm (for example GOST) is not supported yet; "
        "sign the document with an RSA key.",
    },
    FailureCode.UNTRUSTED: {
        "kk": "Қол қоюшының сертификатын сенім білдірілген куәландырушы орталық бермеген.",
        "ru": "Сертификат подписанта выдан не доверенным удостоверяющим центром.",
        "en": "The signer's certificate was not issued by a trusted certification authority.",
    },
    FailureCode.EXPIRED: {
        "kk": "Қол қоюшы сертификатының қолданылу мерзімі өтіп кеткен.",
        "ru": "Срок действия сертификата подписанта истёк.",
        "en": "The signer's certificate has expired.",
    },
    FailureCode.NOT_YET_VALID: {
        "kk": "Қол қоюшының сертификаты әлі күшіне енбеген.",
        "ru": "Сертификат подписанта ещё не вступил в действие.",
        "en": "The signer's certificate is not valid yet.",
    },
    FailureCode.REVOKED: {
        "kk": "Қол қоюшының сертификаты кері қайтарылған.",
        "ru": "Сертификат подписанта отозван.",
        "en": "The signer's certificate has been revoked.",
    },
    FailureCode.REVOCATION_UNKNOWN: {
        "kk": "Қол қоюшы сертификатының кері қайтарылмағанын тексеру мүмкін болмады; "
        "кейінірек қайталап көріңіз.",
        "ru": "Не удалось проверить, не отозван ли сертификат подписанта; повторите попытку позже.",
        "en": "Could not check whether the signer's certificate has been revoked; try again later.",
    },
    FailureCode.KEY_USAGE: {
        "kk": "Қол қоюшының сертификаты электрондық цифрлық қолтаңба қоюға арналмаған.",
        "ru": "Сертификат подписанта не предназначен для электронной цифровой подписи.",
        "en": "The signer's certificate is not meant for digital signatures.",
    },
    FailureCode.AUTH_KEY: {
        "kk": "Құжатқа аутентификация кілтімен (AUTH_… файлы, мысалы AUTH_RSA256_…) қол "
        "қойылған. Қол қою кілтін (RSA256_… немесе GOST512_… файлын) таңдап, қайта қол қойыңыз.",
        "ru": "Документ подписан ключом для аутентификации (файл AUTH_…, например AUTH_RSA256_…). "
        "Выберите ключ для подписи (файл RSA256_… или GOST512_…) и подпишите заново.",
        "en": "The document was signed with the authentication key (an AUTH_… file such as "
        "AUTH_RSA256_…). Choose your signing key (the RSA256_… or GOST512_… file) and sign "
        "again.",
    },
    FailureCode.IIN_MISMATCH: {
        "kk": "Құжатқа басқа адам қол қойған: сертификаттағы ЖСН күтілген ЖСН-мен сәйкес келмейді.",
        "ru": "Документ подписан другим лицом: ИИН в сертификате не совпадает с ожидаемым.",
        "en": "The document was signed by someone else: "
        "the IIN in the certificate is not the expected one.",
    },
    FailureCode.NO_IIN: {
        "kk": "Қол қоюшының сертификатында ЖСН жоқ; ЖСН көрсетілген жеке сертификат қажет.",
        "ru": "В сертификате подписанта нет ИИН; нужен личный сертификат с ИИН.",
        "en": "The signer's certificate has no IIN; "
        "a personal certificate with an IIN is required.",
    },
    FailureCode.NO_CONTENT: {
        "kk": "Қолтаңба бөлек (detached): оны тексеру үшін қол қойылған құжаттың өзі де керек.",
        "ru": "Подпись отделена от документа (detached): для проверки нужен и сам "
        "подписанный документ.",
        "en": "The signature is detached: checking it also needs the signed document itself.",
    },
    FailureCode.XML_UNSAFE: {
        "kk": "XML құжаты қабылданбайды: онда DOCTYPE, сыртқы сілтемелер немесе рұқсат "
        "етілмеген құрылымдар бар, не ол тым үлкен.",
        "ru": "XML-документ не принимается: в нём есть DOCTYPE, внешние ссылки или "
        "недопустимые конструкции, либо он слишком велик.",
        "en": "The XML document is refused: it holds a DOCTYPE, external references or "
        "constructs that are not allowed, or it is too large.",
    },
    FailureCode.XML_REFERENCE: {
        "kk": "XML қолтаңбасы нақты қай элементке қойылғаны анық емес (сілтеме табылмады, "
        "Id қайталанады немесе түрлендіру рұқсат етілмеген).",
        "ru": "Неясно, какой именно элемент XML подписан (ссылка не найдена, Id повторяется "
        "или преобразование не разрешено).",
        "en": "It is not clear which XML element is signed (the reference is not found, "
        "an Id occurs twice, or a transform is not allowed).",
    },
}
