"""Error texts in Kazakh, Russian and English, by code.

Every violation a caller can get has a stable `code`; the text is chosen by language at the
edge. `{placeholders}` are filled from the violation's parameters.
"""

from __future__ import annotations

from typing import Literal

MessageLanguage = Literal["kk", "ru", "en"]
MESSAGE_LANGUAGES: tuple[MessageLanguage, ...] = ("kk", "ru", "en")

_MESSAGES: dict[str, dict[MessageLanguage, str]] = {
    # shape of the request
    "required": {
        "kk": "Міндетті «{field}» өрісі жоқ.",
        "ru": "Отсутствует обязательное поле «{field}».",
        "en": "The required field '{field}' is missing.",
    },
    "unknown_field": {
        "kk": "«{field}» өрісі бұл нысанда жоқ.",
        "ru": "Поле «{field}» не предусмотрено этой формой.",
        "en": "The field '{field}' is not part of this form.",
    },
    "type": {
        "kk": "Мән түрі қате: {expected} күтілген.",
        "ru": "Неверный тип значения: ожидается {expected}.",
        "en": "Wrong type: expected {expected}.",
    },
    "enum": {
        "kk": "Рұқсат етілмеген мән; мүмкін мәндер: {allowed}.",
        "ru": "Недопустимое значение; допустимые значения: {allowed}.",
        "en": "Value not allowed; allowed values: {allowed}.",
    },
    "too_short": {
        "kk": "Мән тым қысқа немесе бос.",
        "ru": "Значение слишком короткое или пустое.",
        "en": "The value is too short or empty.",
    },
    "too_long": {
        "kk": "Мән тым ұзын (ең көбі {limit}).",
        "ru": "Значение слишком длинное (не более {limit}).",
        "en": "The value is too long (at most {limit}).",
    },
    "bad_text": {
        "kk": "Мәтінде басқару таңбалары бар немесе ол бос.",
        "ru": "Текст пуст или содержит управляющие символы.",
        "en": "The text is blank or contains control characters.",
    },
    "bad_format": {
        "kk": "Мән пішімі қате: {expected} күтілген.",
        "ru": "Неверный формат значения: ожидается {expected}.",
        "en": "Wrong format: expected {expected}.",
    },
    "bad_date": {
        "kk": "Күнтізбеде мұндай күн жоқ немесе пішімі ЖЖЖЖ-АА-КК емес.",
        "ru": "Такой даты нет в календаре или формат не ГГГГ-ММ-ДД.",
        "en": "Not a real calendar date in the form YYYY-MM-DD.",
    },
    "bad_datetime": {
        "kk": "Уақыт ISO 8601 пішімінде, уақыт белдеуімен берілуі керек.",
        "ru": "Время должно быть в формате ISO 8601 с часовым поясом.",
        "en": "A time must be ISO 8601 with its UTC offset.",
    },
    "invalid": {
        "kk": "Мән жарамсыз.",
        "ru": "Недопустимое значение.",
        "en": "Invalid value.",
    },
    # identifiers
    "iin_checksum": {
        "kk": "ЖСН бақылау саны сәйкес келмейді.",
        "ru": "Контрольный разряд ИИН не сходится.",
        "en": "The IIN's check digit is wrong.",
    },
    # the text rule (service/text.py)
    "text_control": {
        "kk": "Мәтінде басқару таңбасы бар ({character}, {position}-орын): өріс бір жол болуы керек.",
        "ru": "Текст содержит управляющий символ ({character}, позиция {position}): поле должно быть одной строкой.",
        "en": "The text contains a control character ({character} at position {position}): the field must be one line.",
    },
    "text_invisible": {
        "kk": "Мәтінде көрінбейтін немесе мәтін бағытын өзгертетін таңба бар ({character}, {position}-орын).",
        "ru": "Текст содержит невидимый символ или символ, меняющий направление текста ({character}, позиция {position}).",
        "en": "The text contains an invisible or direction-changing character ({character} at position {position}).",
    },
    "text_not_a_character": {
        "kk": "Мәтінде таңба емес код нүктесі бар (жалғыз суррогат, жеке пайдалану аймағы немесе тағайындалмаған: {character}, {position}-орын).",
        "ru": "Текст содержит кодовую точку, не являющуюся символом (одиночный суррогат, частная или неназначенная: {character}, позиция {position}).",
        "en": "The text contains a code point that is not a character (lone surrogate, private-use or unassigned: {character} at position {position}).",
    },
    "text_mark_without_letter": {
        "kk": "Қосылатын белгі әріптен кейін емес немесе бір әріпте тым көп ({character}, {position}-орын).",
        "ru": "Комбинируемый знак стоит не после буквы или их слишком много на одной букве ({character}, позиция {position}).",
        "en": "A combining mark does not follow a letter, or one letter carries too many ({character} at position {position}).",
    },
    "text_character_not_allowed": {
        "kk": "Бұл өрісте {character} таңбасына рұқсат жоқ ({position}-орын).",
        "ru": "Символ {character} недопустим в этом поле (позиция {position}).",
        "en": "The character {character} is not allowed in this field (position {position}).",
    },
    "text_edge_space": {
        "kk": "Мәтін бос орынмен басталмауы және аяқталмауы керек.",
        "ru": "Текст не должен начинаться или заканчиваться пробелом.",
        "en": "The text must not start or end with a space.",
    },
    "text_no_letter": {
        "kk": "Атауда бірде-бір әріп жоқ.",
        "ru": "В имени нет ни одной буквы.",
        "en": "The name has no letter.",
    },
    "date_out_of_range": {
        "kk": "Күн {earliest} мен {latest} аралығында болуы керек.",
        "ru": "Дата должна быть между {earliest} и {latest}.",
        "en": "The date must be between {earliest} and {latest}.",
    },
    "lone_surrogate": {
        "kk": "JSON жолында жалғыз суррогат бар (\\ud800–\\udfff): бұл таңба емес.",
        "ru": "Строка JSON содержит одиночный суррогат (\\ud800–\\udfff): это не символ.",
        "en": "A JSON string contains a lone surrogate (\\ud800–\\udfff), which is not a character.",
    },
    "lone_surrogate_key": {
        "kk": "Осы объектінің бір кілтінде жалғыз суррогат бар (\\ud800–\\udfff): бұл таңба емес.",
        "ru": "Один из ключей этого объекта содержит одиночный суррогат (\\ud800–\\udfff): это не символ.",
        "en": "A key of this object contains a lone surrogate (\\ud800–\\udfff), which is not a character.",
    },
    "bad_email": {
        "kk": "Электрондық пошта мекенжайы жарамсыз: күтілетіні аты@домен.kz, бос орынсыз және басқару таңбаларынсыз, ең көбі 254 таңба.",
        "ru": "Недействительный адрес электронной почты: ожидается имя@домен.kz без пробелов и управляющих символов, не длиннее 254 символов.",
        "en": "Not a valid e-mail address: expected name@domain.kz, without spaces or control characters, at most 254 characters.",
    },
    "email_not_ascii": {
        "kk": "Электрондық пошта мекенжайында ASCII емес таңба бар ({character}, {position}-орын): мұндай мекенжайға хат жіберілмейді; домен xn-- түрінде жазылады.",
        "ru": "Адрес электронной почты содержит символ не из ASCII ({character}, позиция {position}): на такой адрес письмо не отправляется; домен записывается в виде xn--.",
        "en": "The e-mail address contains a non-ASCII character ({character} at position {position}): qujat cannot send to it; write an internationalised domain in its xn-- form.",
    },
    # the act's rules
    "future_date": {
        "kk": "Бұл күн болашақта болуы мүмкін емес.",
        "ru": "Эта дата не может быть в будущем.",
        "en": "This date cannot be in the future.",
    },
    "date_order": {
        "kk": "Бұл күн {other} күнінен ерте болмауы керек.",
        "ru": "Эта дата не может быть раньше даты «{other}».",
        "en": "This date cannot be earlier than '{other}'.",
    },
    "reason_required": {
        "kk": "«Сәйкес келмейді» шешімі үшін себебі көрсетілуі керек.",
        "ru": "Для решения «не соответствует» нужно указать причину.",
        "en": "A reason is required when the decision is 'does not correspond'.",
    },
    "awarded_must_equal_declared": {
        "kk": "Шешім «мәлімделген санатқа сәйкес келеді»: берілген санат мәлімделген санатқа тең болуы керек.",
        "ru": "Решение «соответствует заявляемой»: присвоенная категория должна совпадать с заявляемой.",
        "en": "Outcome 'corresponds to the declared category': the awarded category must equal the declared one.",
    },
    "awarded_must_equal_current": {
        "kk": "Берілген санат қолданыстағы санатқа тең болуы керек.",
        "ru": "Присвоенная категория должна совпадать с действующей.",
        "en": "The awarded category must equal the current one.",
    },
    "awarded_must_be_below_current": {
        "kk": "Берілген санат қолданыстағы санаттан төмен болуы керек.",
        "ru": "Присвоенная категория должна быть ниже действующей.",
        "en": "The awarded category must be below the current one.",
    },
    "awarded_must_be_below_declared": {
        "kk": "Берілген санат мәлімделген санаттан төмен және сол сатыда болуы керек.",
        "ru": "Присвоенная категория должна быть ниже заявляемой и на той же лестнице.",
        "en": "The awarded category must be below the declared one, on the same ladder.",
    },
    "awarded_required": {
        "kk": "Бұл шешім үшін берілген санат көрсетілуі керек.",
        "ru": "Для этого решения нужно указать присвоенную категорию.",
        "en": "This outcome needs the awarded category.",
    },
    "awarded_not_allowed": {
        "kk": "Бұл шешім кезінде жаңа санат берілмейді.",
        "ru": "При этом решении категория не присваивается.",
        "en": "No category is awarded with this outcome.",
    },
    "current_required": {
        "kk": "Бұл шешім үшін қолданыстағы санат көрсетілуі керек.",
        "ru": "Для этого решения нужно указать действующую категорию.",
        "en": "This outcome needs the current category.",
    },
    "declared_below_current": {
        "kk": "Мәлімделген санат қолданыстағы санаттан төмен болмауы керек.",
        "ru": "Заявляемая категория не может быть ниже действующей.",
        "en": "The declared category cannot be below the current one.",
    },
    "declared_not_above_current": {
        "kk": "Бұл шешім үшін мәлімделген санат қолданыстағы санаттан жоғары болуы керек.",
        "ru": "Для этого решения заявляемая категория должна быть выше действующей.",
        "en": "For this outcome the declared category must be above the current one.",
    },
    "ladder_mismatch": {
        "kk": "Басшы мен орынбасар санаттары араласпауы керек.",
        "ru": "Категории руководителя и заместителя не смешиваются.",
        "en": "Head and deputy categories cannot be mixed.",
    },
    "validity_mismatch": {
        "kk": "Жарамдылық мерзімі актіге сәйкес емес: {expected} болуы керек.",
        "ru": "Срок действия не соответствует акту: должен быть {expected}.",
        "en": "The validity does not follow the act: it must be {expected}.",
    },
    "duplicate_person": {
        "kk": "Бұл адам хаттамада бұрын кездескен (№ {first} жол).",
        "ru": "Этот человек уже есть в протоколе (строка № {first}).",
        "en": "This person already appears in the protocol (row {first}).",
    },
    "duplicate_member": {
        "kk": "Бұл адам комиссия құрамында бірнеше рет көрсетілген.",
        "ru": "Этот человек указан в составе комиссии несколько раз.",
        "en": "This person is listed in the commission more than once.",
    },
    # commissions and sessions (p. 15-18)
    "members_even": {
        "kk": "Комиссия мүшелерінің саны тақ болуы керек (қазір {count}).",
        "ru": "Число членов комиссии должно быть нечётным (сейчас {count}).",
        "en": "A commission has an odd number of members (now {count}).",
    },
    "chair_count": {
        "kk": "Мүшелердің ішінен дәл бір төраға көрсетілуі керек (қазір {count}).",
        "ru": "Среди членов должен быть ровно один председатель (сейчас {count}).",
        "en": "Exactly one member must be the chair (now {count}).",
    },
    "secretary_is_member": {
        "kk": "Хатшы комиссия мүшесі болмайды және дауыс бермейді.",
        "ru": "Секретарь не является членом комиссии и не голосует.",
        "en": "The secretary is not a member and does not vote.",
    },
    "term_mismatch": {
        "kk": "Комиссияның өкілеттік мерзімі бұйрықтан бастап бір жыл: {expected}.",
        "ru": "Срок полномочий комиссии — один год с даты приказа: {expected}.",
        "en": "A commission's term is one year from its order: {expected}.",
    },
    "outside_term": {
        "kk": "Отырыс комиссияның өкілеттік мерзімінен тыс ({start} – {end}).",
        "ru": "Заседание вне срока полномочий комиссии ({start} – {end}).",
        "en": "The session is outside the commission's term ({start} – {end}).",
    },
    "not_a_member": {
        "kk": "Бұл адам комиссия мүшесі емес.",
        "ru": "Этот человек не является членом комиссии.",
        "en": "This person is not a member of the commission.",
    },
    "chair_absent": {
        "kk": "Комиссия төрағасы отырысқа қатысуы керек.",
        "ru": "Председатель комиссии должен присутствовать на заседании.",
        "en": "The chair must be present at the session.",
    },
    "no_quorum": {
        "kk": "Кворум жоқ: {present} мүше қатысты, кемінде {needed} керек (үштен екісі).",
        "ru": "Нет кворума: присутствуют {present}, нужно не менее {needed} (две трети).",
        "en": "No quorum: {present} members present, at least {needed} needed (two thirds).",
    },
    "member_attested": {
        "kk": "Комиссия мүшесі өкілеттік мерзімі ішінде осы комиссияда аттестатталмайды.",
        "ru": "Член комиссии не может аттестоваться этой комиссией в срок её полномочий.",
        "en": "A member of the commission cannot be attested by it during its term.",
    },
    # the HTTP edge
    "malformed_json": {
        "kk": "Сұрау денесі дұрыс JSON емес: {detail}",
        "ru": "Тело запроса не является корректным JSON: {detail}",
        "en": "The request body is not valid JSON: {detail}",
    },
    "unsupported_media_type": {
        "kk": "Content-Type application/json болуы керек.",
        "ru": "Content-Type должен быть application/json.",
        "en": "Content-Type must be application/json.",
    },
    "too_large": {
        "kk": "Сұрау тым үлкен (ең көбі {limit} байт).",
        "ru": "Запрос слишком большой (не более {limit} байт).",
        "en": "The request is too large (at most {limit} bytes).",
    },
    # public verification, revocation and supersession
    "rate_limited": {
        "kk": "Сұраныстар тым көп: {seconds} секундтан кейін қайталаңыз.",
        "ru": "Слишком много запросов: повторите через {seconds} с.",
        "en": "Too many requests: retry in {seconds} seconds.",
    },
    "upload_unknown_field": {
        "kk": "«{field}» өрісі белгісіз: PDF файлы «pdf» өрісінде, қолтаңба «p7s» өрісінде.",
        "ru": "Неизвестное поле «{field}»: PDF-файл передаётся в поле «pdf», подпись — в «p7s».",
        "en": "Unknown field '{field}': send the PDF as 'pdf' and the signature as 'p7s'.",
    },
    # the command line's own words around the reasons above
    "cli_invalid_decision": {
        "kk": "Шешім қабылданбады (қателер саны: {count}):",
        "ru": "Решение не принято (ошибок: {count}):",
        "en": "invalid decision ({count} problem(s)):",
    },
    "cli_refused": {
        "kk": "сервер сұрауды қабылдамады",
        "ru": "сервер отклонил запрос",
        "en": "the server refused the request",
    },
    "cli_error": {
        "kk": "Қате",
        "ru": "Ошибка",
        "en": "Error",
    },
    # refused by the HTTP server before the application saw the request
    "uri_too_long": {
        "kk": "Сұрау жолы (мекенжай) тым ұзын.",
        "ru": "Строка запроса (адрес) слишком длинная.",
        "en": "The request line (the address) is too long.",
    },
    "headers_too_large": {
        "kk": "Сұрау тақырыптары тым көп немесе тым ұзын.",
        "ru": "Слишком много заголовков запроса или они слишком длинные.",
        "en": "The request has too many header fields, or one that is too long.",
    },
    "bad_request": {
        "kk": "Сұрау HTTP ережелеріне сәйкес келмейді.",
        "ru": "Запрос не соответствует правилам HTTP.",
        "en": "The request does not follow HTTP's rules.",
    },
    "request_refused": {
        "kk": "Сервер сұрауды қабылдамады (HTTP {status}).",
        "ru": "Сервер отклонил запрос (HTTP {status}).",
        "en": "The server refused the request (HTTP {status}).",
    },
    "not_found": {
        "kk": "Бұл мекенжайда ештеңе жоқ.",
        "ru": "По этому адресу ничего нет.",
        "en": "Nothing is at this address.",
    },
    "metrics_forbidden": {
        "kk": "Метрикалар тек QUJAT_METRICS_TOKEN токенімен немесе осы машинаның өзінен беріледі.",
        "ru": "Метрики отдаются только с токеном QUJAT_METRICS_TOKEN или на этой же машине.",
        "en": "Metrics are served only with the QUJAT_METRICS_TOKEN bearer token, "
              "or to this machine itself.",
    },
    "not_ready": {
        "kk": "Сервис дайын емес: {failing}.",
        "ru": "Сервис не готов: {failing}.",
        "en": "The service is not ready: {failing}.",
    },
    "check_failed": {
        "kk": "«{check}» тексерісі өтпеді: {detail}",
        "ru": "Проверка «{check}» не пройдена: {detail}",
        "en": "The check '{check}' failed: {detail}",
    },
    "method_not_allowed": {
        "kk": "Бұл мекенжай {method} әдісін қабылдамайды; рұқсат етілгені: {allowed}.",
        "ru": "Этот адрес не принимает метод {method}; допустимы: {allowed}.",
        "en": "This address does not take {method}; allowed: {allowed}.",
    },
    "upload_missing": {
        "kk": "Тексеру үшін PDF файлын «pdf» өрісінде жіберіңіз.",
        "ru": "Отправьте PDF-файл для проверки в поле «pdf».",
        "en": "Send the PDF to verify in the form field 'pdf'.",
    },
    "unknown_organisation": {
        "kk": "Мұндай кодпен ұйым жоқ.",
        "ru": "Организации с таким кодом нет.",
        "en": "There is no organisation with this code.",
    },
    "already_revoked": {
        "kk": "Құжаттың күші бұрын жойылған; күшін қайтару үшін жаңа құжат беріледі.",
        "ru": "Документ уже отозван; для восстановления выдаётся новый документ.",
        "en": "The document is already revoked; reinstating it takes a new document.",
    },
    "revocation_not_issued": {
        "kk": "Құжат әлі берілмеген, оның күшін жоюға болмайды.",
        "ru": "Документ ещё не выдан, его нельзя отозвать.",
        "en": "The document is not issued yet and cannot be revoked.",
    },
    "act_before_issue": {
        "kk": "Акт күні құжат берілген күннен ерте болмауы керек.",
        "ru": "Дата акта не может быть раньше даты выдачи документа.",
        "en": "The act cannot be dated before the document was issued.",
    },
    "supersedes_unknown": {
        "kk": "Ауыстырылатын құжат табылмады.",
        "ru": "Заменяемый документ не найден.",
        "en": "The document to supersede does not exist.",
    },
    "supersedes_other_organisation": {
        "kk": "Басқа ұйым берген құжатты ауыстыруға болмайды.",
        "ru": "Нельзя заменить документ, выданный другой организацией.",
        "en": "A document issued by another organisation cannot be superseded.",
    },
    "supersedes_not_issued": {
        "kk": "Ауыстырылатын құжат әлі берілмеген.",
        "ru": "Заменяемый документ ещё не выдан.",
        "en": "The document to supersede is not issued yet.",
    },
    "supersedes_other_form": {
        "kk": "Құжатты тек сол нысандағы құжат ауыстыра алады.",
        "ru": "Документ может заменить только документ той же формы.",
        "en": "A document can only be superseded by one of the same form.",
    },
    "supersedes_already_superseded": {
        "kk": "Бұл құжат бұрын ауыстырылған.",
        "ru": "Этот документ уже заменён.",
        "en": "This document has already been superseded.",
    },
}

# per-member signatures: the service's own codes, then every failure of the signing
# library as "signature_<code>", in the library's own words
_MESSAGES.update({
    "commission_unknown": {
        "kk": "Мұндай комиссия жоқ.",
        "ru": "Такой комиссии нет.",
        "en": "There is no such commission.",
    },
    "not_a_signer": {
        "kk": "Бұл адам осы құжатқа қол қоюшылардың қатарында жоқ.",
        "ru": "Этого лица нет среди тех, кто подписывает этот документ.",
        "en": "This person is not among those who sign this document.",
    },
    "member_absent": {
        "kk": "Комиссия мүшесі отырысқа қатыспаған, сондықтан хаттамаға қол қоймайды.",
        "ru": "Член комиссии не присутствовал на заседании и не подписывает его протокол.",
        "en": "This commission member was not present at the session and does not sign its "
        "protocol.",
    },
    "already_signed": {
        "kk": "Бұл адам құжатқа бұрын қол қойған.",
        "ru": "Это лицо уже подписало документ.",
        "en": "This person has already signed the document.",
    },
    "no_signers": {
        "kk": "Бұл құжатқа ешкім қол қоймайды (қол қоюшының ЖСН-і көрсетілмеген).",
        "ru": "Этот документ никто не подписывает (ИИН подписанта не указан).",
        "en": "Nobody signs this document (no signer's IIN was given).",
    },
    "not_signed": {
        "kk": "Құжатқа әлі барлығы қол қойған жоқ; қол қоюы керек: {missing}.",
        "ru": "Документ ещё не подписан всеми; осталось подписать: {missing}.",
        "en": "The document is not signed by everyone yet; still to sign: {missing}.",
    },
    "protocol_unsigned": {
        "kk": "{number} хаттамасына әлі барлығы қол қойған жоқ; қол қоюы керек: {missing}.",
        "ru": "Протокол {number} ещё не подписан всеми; осталось подписать: {missing}.",
        "en": "The protocol {number} is not signed by everyone yet; still to sign: {missing}.",
    },
    "protocol_unknown": {
        "kk": "Сілтеме жасалған хаттама табылмады.",
        "ru": "Указанный протокол не найден.",
        "en": "The protocol referred to does not exist.",
    },
    "protocol_wrong_form": {
        "kk": "Сілтеме жасалған құжат осы нысанға сәйкес хаттама емес.",
        "ru": "Указанный документ не является протоколом, на который может ссылаться эта форма.",
        "en": "The document referred to is not a protocol this form can be based on.",
    },
    "protocol_person_missing": {
        "kk": "Бұл адам сілтеме жасалған хаттамада жоқ.",
        "ru": "Этого лица нет в указанном протоколе.",
        "en": "This person does not appear in the protocol referred to.",
    },
    "quorum_unknown": {
        "kk": "{number} хаттамасы тіркелген комиссияға шығарылмаған: кворумын тексеру мүмкін емес. "
        "Хаттаманы POST /api/v1/commissions/{{id}}/protocols арқылы шығарыңыз.",
        "ru": "Протокол {number} выпущен не для зарегистрированной комиссии: кворум проверить "
        "нельзя. Выпускайте протоколы через POST /api/v1/commissions/{{id}}/protocols.",
        "en": "The protocol {number} was not issued for a stored commission, so its quorum "
        "cannot be checked. Issue protocols through POST /api/v1/commissions/{{id}}/protocols.",
    },
    "signing_unavailable": {
        "kk": "Қолтаңбаларды тексеру бапталмаған: QUJAT_TRUST_DIR сенім білдірілген CA "
              "сертификаттары мен CRL тізімдері бар оқылатын қалтаны көрсетуі керек.",
        "ru": "Проверка подписей не настроена: QUJAT_TRUST_DIR должен указывать на читаемую "
              "папку с доверенными сертификатами УЦ и списками отзыва (CRL).",
        "en": "Signature verification is not configured: QUJAT_TRUST_DIR must name a readable "
              "folder of trusted CA certificates and CRLs.",
    },
})

# deadlines and e-mail delivery of extracts
_MESSAGES.update({
    "deliver_to_not_extract": {
        "kk": "Электрондық поштамен тек хаттамадан үзінді жіберіледі, ал бұл — «{form}» нысаны.",
        "ru": "По электронной почте отправляется только выписка из протокола, а это форма «{form}».",
        "en": "Only extracts are delivered by e-mail; this is a '{form}'.",
    },
    "mail_nothing_to_resend": {
        "kk": "Бұл құжат электрондық поштамен жіберілмеген (deliver_to көрсетілмеген).",
        "ru": "Этот документ не отправлялся по электронной почте (deliver_to не указан).",
        "en": "This document was never delivered by e-mail (no deliver_to).",
    },
    "mail_still_pending": {
        "kk": "Құжаттың хаты әлі кезекте немесе дәл қазір жіберіліп жатыр.",
        "ru": "Письмо с этим документом ещё в очереди или отправляется прямо сейчас.",
        "en": "The e-mail of this document is still queued or being sent right now.",
    },
    "mail_awaiting_signatures": {
        "kk": "Құжаттың хаты қолтаңбаларды күтіп тұр: құжатқа қол қойылғанда ол өзі жіберіледі.",
        "ru": "Письмо с этим документом ждёт подписей: оно уйдёт само, как только документ будет подписан.",
        "en": "The e-mail of this document waits for its signatures; it is sent by itself once the document is signed.",
    },
})

# batch issuing
_MESSAGES.update({
    "batch_media_type": {
        "kk": "Content-Type application/json (JSON массиві) немесе application/x-ndjson болуы керек.",
        "ru": "Content-Type должен быть application/json (массив JSON) или application/x-ndjson.",
        "en": "Content-Type must be application/json (a JSON array) or application/x-ndjson.",
    },
    "batch_not_a_list": {
        "kk": "Топтама — сұраулардың JSON массиві болуы керек.",
        "ru": "Пакет должен быть массивом JSON из запросов.",
        "en": "A batch must be a JSON array of requests.",
    },
    "batch_empty": {
        "kk": "Топтамада бірде-бір сұрау жоқ.",
        "ru": "В пакете нет ни одного запроса.",
        "en": "The batch has no requests.",
    },
    "batch_too_many": {
        "kk": "Топтамада сұрау тым көп (ең көбі {limit}).",
        "ru": "В пакете слишком много запросов (не более {limit}).",
        "en": "The batch has too many requests (at most {limit}).",
    },
    "batch_duplicate_decision": {
        "kk": "Бұл decision_id топтамада бұрын кездесті (№ {index} элемент).",
        "ru": "Этот decision_id уже встречался в пакете (элемент № {index}).",
        "en": "This decision_id already appears in the batch (item {index}).",
    },
    "batch_attempts_exhausted": {
        "kk": "Құжатты беру {attempts} әрекеттің бәрінде сәтсіз аяқталды; ештеңе берілмеді.",
        "ru": "Выдача документа не удалась ни в одной из {attempts} попыток; ничего не выдано.",
        "en": "Issuing failed on all {attempts} attempts; nothing was issued.",
    },
})

# signing in bulk (POST /api/v1/signatures, GET /api/v1/signers/{iin}/pending)
_MESSAGES.update({
    "bulk_empty": {
        "kk": "«signatures» тізімінде бірде-бір қолтаңба жоқ.",
        "ru": "В списке «signatures» нет ни одной подписи.",
        "en": "The list 'signatures' holds no signature.",
    },
    "bulk_too_many": {
        "kk": "Бір сұраудағы қолтаңбалар тым көп (ең көбі {limit}): оларды бірнеше сұрауға бөліңіз.",
        "ru": "Слишком много подписей в одном запросе (не более {limit}): разделите их на несколько запросов.",
        "en": "Too many signatures in one request (at most {limit}): split them into several requests.",
    },
    "signer_iin": {
        "kk": "Жолдағы ЖСН 12 цифрдан тұруы және бақылау цифры дұрыс болуы керек.",
        "ru": "ИИН в пути должен состоять из 12 цифр с верной контрольной цифрой.",
        "en": "The IIN in the path must be 12 digits with a valid check digit.",
    },
    "bulk_document_unknown": {
        "kk": "Сіздің ұйымыңызда мұндай құжат жоқ (id немесе тіркеу нөмірі).",
        "ru": "У вашей организации нет такого документа (id или регистрационный номер).",
        "en": "Your body has no such document (id or registration number).",
    },
    "bulk_item_failed": {
        "kk": "Бұл қолтаңбаны өңдеу кезінде сервер қатесі болды: оның сақталғанын құжаттың "
              "қол қою күйінен (/signing) тексеріңіз.",
        "ru": "При обработке этой подписи произошла ошибка сервера: сохранена ли она, покажет "
              "состояние подписания документа (/signing).",
        "en": "The server failed on this signature: the document's signing state (/signing) "
              "tells whether it was recorded.",
    },
})


def _signature_failures() -> dict[str, dict[MessageLanguage, str]]:
    from signing.errors import FailureCode

    return {
        f"signature_{code.value}": {lang: code.message(lang) for lang in MESSAGE_LANGUAGES}
        for code in FailureCode
    }


_MESSAGES.update({
    "invitation_document_signed": {
        "kk": "Құжатқа қол қойылып қойған: шақыру қажет емес.",
        "ru": "Документ уже подписан: приглашения не нужны.",
        "en": "The document is already signed: no invitation is needed.",
    },
    "duplicate_signer": {
        "kk": "Бұл қол қоюшы тізімде бірнеше рет көрсетілген.",
        "ru": "Этот подписант указан в списке несколько раз.",
        "en": "This signer is listed more than once.",
    },
    "invitation_unknown": {
        "kk": "Мұндай шақыру жоқ.",
        "ru": "Такого приглашения нет.",
        "en": "There is no such invitation.",
    },
    "invitation_used": {
        "kk": "Бұл шақыру бойынша қол қойылған; оны қайтарып алу мүмкін емес.",
        "ru": "По этому приглашению уже подписано; отозвать его нельзя.",
        "en": "The document was signed through this invitation; it cannot be revoked.",
    },
})

_MESSAGES.update(_signature_failures())

# POST /api/v1/signatures/verify (service/api/signature_verify.py)
_MESSAGES.update({
    "either_field": {
        "kk": "«{first}» не «{second}» өрісінің тек біреуін жіберіңіз.",
        "ru": "Передайте только одно из полей: «{first}» или «{second}».",
        "en": "Send exactly one of the fields '{first}' and '{second}'.",
    },
    "content_without_cms": {
        "kk": "«content» өрісі тек «cms» өрісімен бірге (бөлек қолтаңбаның құжаты) жіберіледі.",
        "ru": "Поле «content» передаётся только вместе с «cms» (документ отделённой подписи).",
        "en": "The field 'content' goes only with 'cms' (the document of a detached signature).",
    },
})


def message(code: str, language: MessageLanguage, params: dict[str, object] | None = None) -> str:
    """The text for `code` in `language`, with its parameters filled in."""
    template = _MESSAGES[code][language]
    return template.format(**params) if params else template


def known_codes() -> frozenset[str]:
    return frozenset(_MESSAGES)

# webhooks (service/webhooks, service/api/webhooks.py)
_MESSAGES.update({
    "url_too_long": {
        "kk": "Webhook URL мекенжайы тым ұзын (ең көбі {limit} таңба).",
        "ru": "URL вебхука слишком длинный (не более {limit} символов).",
        "en": "The webhook URL is too long (at most {limit} characters).",
    },
    "url_malformed": {
        "kk": "Webhook URL мекенжайын оқу мүмкін емес: {detail}.",
        "ru": "URL вебхука не разобран: {detail}.",
        "en": "The webhook URL cannot be used: {detail}.",
    },
    "url_scheme": {
        "kk": "Webhook URL мекенжайы http:// немесе https:// деп басталады.",
        "ru": "URL вебхука должен начинаться с http:// или https://.",
        "en": "A webhook URL starts with http:// or https://.",
    },
    "url_credentials": {
        "kk": "Webhook URL мекенжайында пайдаланушы аты мен құпиясөз болмайды.",
        "ru": "URL вебхука не должен содержать имя пользователя или пароль.",
        "en": "A webhook URL carries no user name or password.",
    },
    "url_unresolvable": {
        "kk": "Webhook URL хосты табылмады: {detail}.",
        "ru": "Хост URL вебхука не найден: {detail}.",
        "en": "The webhook URL's host cannot be resolved: {detail}.",
    },
    "url_private": {
        "kk": "Webhook URL хосты ішкі желі мекенжайына сілтейді: {detail}.",
        "ru": "Хост URL вебхука указывает на адрес внутренней сети: {detail}.",
        "en": "The webhook URL's host is an internal address: {detail}.",
    },
    "webhook_too_many": {
        "kk": "Ұйымның белсенді webhook саны шегіне жетті ({limit}).",
        "ru": "У организации уже максимум активных вебхуков ({limit}).",
        "en": "The issuing body already has the most active webhooks allowed ({limit}).",
    },
    "webhook_still_pending": {
        "kk": "Бұл жеткізу әлі кезекте немесе жіберілуде.",
        "ru": "Эта доставка ещё в очереди или отправляется.",
        "en": "This delivery is still queued or being sent.",
    },
    "duplicate_item": {
        "kk": "Бұл мән тізімде қайталанады.",
        "ru": "Это значение в списке повторяется.",
        "en": "This value appears more than once in the list.",
    },
})
