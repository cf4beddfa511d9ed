"""The need in a request as PMs type it: without the client's context before it or the question
after it.

"coffee roaster client wants customers on auto monthly deliveries — go-to app?" asks for
subscriptions, not coffee; 「アパレルのお客さん、着用写真つきの口コミ載せたいって。何かいいのある？」
for photo reviews, not clothes. The client's trade and the closing question are words the
listings share by chance (coffee apps, "app"), so the keyword channel, the glossary and the
renderings read the need alone. Only the shapes PMs use are recognised: a leading clause about
the client, and a closing question made only of asking words ("which app?", 「何かある？」, never
"booking app?" or 「連携アプリある？」, which name the need). A request in neither shape is left whole.
"""

from __future__ import annotations

import re

from models.text import STOP_WORDS_EN, Language, english_words, normalize, tokenize

# "<context> client ... wants|needs|is looking for <need>", "they want <need>", "gift shop wants
# <need>", "<trade> client: <need>". Not "customers": "let customers choose the date they want"
# states a need, and the customer is in it.
_EN_VERB = (r"(?:wants?|needs?|would like|asks? for|asked for|is looking for|are looking for|"
            r"looking for)\b(?:\s+to\b)?")
_EN_CONTEXT = re.compile(
    rf"^(?:[^.?!:—]*?\b(?:client|merchant|brand)s?(?:'s)?\b[^.?!:—]*?\b{_EN_VERB}"
    rf"|(?:they|we)\s+{_EN_VERB}|[^.?!:—]{{0,40}}?\b(?:shop|store)\s+{_EN_VERB}"
    r"|[^.?!:—]{0,40}\bclient\s*:)\s*",
    re.IGNORECASE,
)
# 「コーヒー豆屋さんのクライアント、」「ヨガスタジオのクライアントで、」「お菓子屋さんの件、」: a short
# leading clause naming the client, up to its comma (not 「実店舗、」: a shop alone is no client).
_JA_CONTEXT = re.compile(
    r"^[^。？！?!、]{0,40}?(?:クライアント|お客さん|お客様|顧客|案件|の件|さん|お店)"
    r"(?:が|で|は|の件|から)?[、,]\s*"
)
# A Japanese request's last clause (after a full stop, comma or space), when it is a question.
_JA_LAST_QUESTION = re.compile(r"(?:^|[。、！？!?…\s])([^。、！？!?…\s]+[?？]+)\s*$")
# An English request's last word, with what follows it.
_EN_LAST_WORD = re.compile(r"[\w'/]+[\s—–\-,;:.!/]*$")
# Words that only ask: the clause they alone make up says nothing of the need.
_ASKING_EN = frozenset({
    "app", "apps", "application", "plugin", "tool", "tools", "ideas", "idea", "recs", "rec",
    "recommendation", "recommendations", "suggestion", "suggestions", "option", "options",
    "go", "goto", "good", "best", "simple", "doable", "native", "anything", "something",
    "thoughts", "use", "w", "one", "out", "known",
}) | STOP_WORDS_EN
_ASKING_JA = frozenset({"御勧め", "良い", "何", "何か", "アプリ", "知る", "使う", "定番", "要る", "どれ"})


def need_of(query: str, language: Language) -> str:
    """The request without the client's context before the need and the question after it; the
    request itself when that would leave nothing."""
    text = normalize(query).strip()
    if language == "en":
        need = _without_asking_words(_EN_CONTEXT.sub("", text, count=1))
    else:
        need = _JA_CONTEXT.sub("", text, count=1)
        question = _JA_LAST_QUESTION.search(need)
        if question and all(token in _ASKING_JA for token in tokenize(question.group(1))):
            need = need[: question.start(1)]
    return need.strip(" —–-,;:、") or text


def _without_asking_words(text: str) -> str:
    """An English question without its closing asking words ("…, which app?", "ideas?")."""
    if not text.endswith("?"):
        return text
    text = text.rstrip("?")
    while (last := _EN_LAST_WORD.search(text)) and all(
            word in _ASKING_EN for word in english_words(last.group(0))):
        text = text[: last.start()]
    return text
