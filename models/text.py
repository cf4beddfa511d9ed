"""Text analysis for both languages: script-based language detection and tokenizers.

English: NFKC, lower-case, stop words dropped, Snowball stems (PyStemmer).
Japanese: SudachiPy (mode C, normalized forms), particles, auxiliaries, symbols dropped.
Mixed text (「Shopify Plusで使えるsubscription」) is cut into script runs, each sent to its path.
Readings: a phonetic key per Japanese morpheme, so a word typed with the wrong kanji or in kana
(研削 for 検索, よやく for 予約) still meets the word meant.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Literal

Language = Literal["ja", "en"]

_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_JAPANESE = re.compile(
    r"[\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u3005\u3006\u3007\u30fc\uff66-\uff9f]"
)
_LATIN = re.compile(r"[A-Za-z]")
# Japanese runs go to Sudachi; everything between them (Latin, digits, punctuation) to English.
_JAPANESE_RUN = re.compile(
    r"([\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u3005\u3006\u3007\uff66-\uff9f]+)"
)
_EN_WORD = re.compile(r"[a-z0-9]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’\-&+]*")

# Function words that carry no need: the Lucene list plus the pronouns, auxiliaries and request
# phrasing ("we want to let customers ...") that every query shares.
STOP_WORDS_EN = frozenset([
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just",
    "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
    "yourselves", "also", "etc", "via", "want", "wants", "wanted", "like", "let", "lets", "would",
    "need", "needs", "please"
])

# Sudachi part-of-speech heads that never carry a need.
_DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号", "接頭辞"})
# Light verbs and formal nouns (normalized forms): the Japanese counterpart of "do", "thing".
STOP_WORDS_JA = frozenset([
    "為る", "成る", "出来る", "居る", "有る", "在る", "言う", "思う",
    "様", "よう", "そう", "こと", "事", "もの", "物", "ため", "為", "等", "など",
])
SPLIT_MODE = "C"  # measured against B on the dev set: no difference, C keeps compounds (定期便)


def normalize(text: str) -> str:
    """NFKC folds full-width Latin and half-width kana so both scripts compare as typed."""
    return unicodedata.normalize("NFKC", text)


def has_japanese(text: str) -> bool:
    return _JAPANESE.search(text) is not None


def detect_language(text: str) -> Language:
    """Japanese when the text has hiragana (never found in English) or a large kana/kanji share."""
    text = normalize(text)
    if _HIRAGANA.search(text):
        return "ja"
    japanese = len(_JAPANESE.findall(text))
    latin = len(_LATIN.findall(text))
    return "ja" if japanese and japanese >= 0.25 * (japanese + latin) else "en"


class _PerThread(threading.local):
    """Sudachi tokenizers and Snowball stemmers are not safe to share between threads."""

    stemmer: Any = None
    sudachi: Any = None


_local = _PerThread()
_dictionary_lock = threading.Lock()
_dictionary: Any = None


def _stemmer() -> Any:
    if _local.stemmer is None:
        import Stemmer

        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


def _sudachi() -> Any:
    """One dictionary per process (loaded on first use), one tokenizer per thread."""
    global _dictionary
    if _local.sudachi is None:
        with _dictionary_lock:
            if _dictionary is None:
                from sudachipy import Dictionary

                _dictionary = Dictionary(dict="core")
        _local.sudachi = _dictionary.tokenizer(mode=SPLIT_MODE)
    return _local.sudachi


def english_words(text: str) -> list[str]:
    """Lower-cased words without stemming or stop-word removal (for phrase matching)."""
    return _EN_WORD.findall(normalize(text).lower().replace("'", "").replace("’", ""))


def stem_words(words: list[str]) -> list[str]:
    return [_stem(word) for word in words]


# Snowball conflations that join unrelated needs: "customers" and "customized" both stem to
# "custom", so a request about customers matched product customisers (and customs duties).
STEM_OVERRIDES = {"customer": "customer", "customers": "customer", "customs": "customs"}
# British spellings folded to the American ones most listings use before stemming
# ("personalise" -> "personalize"); words shorter than this ("rise", "wise") are left alone.
_BRITISH_ISE = re.compile(r"(?<=[a-z]{4})is(e|ed|es|ing|ation|ations|er|ers)$")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    if word in STEM_OVERRIDES:
        return STEM_OVERRIDES[word]
    return str(_stemmer().stemWord(_BRITISH_ISE.sub(r"iz\1", word)))


def tokenize_en(text: str) -> list[str]:
    return [_stem(word) for word in english_words(text) if word not in STOP_WORDS_EN]


def carries_meaning(form: str) -> bool:
    """Whether a Japanese word (normalized form) of a content part of speech carries meaning:
    not a light verb or formal noun, nor a lone hiragana (や, で cut off between Latin words are
    grammar Sudachi saw out of context)."""
    return bool(form) and form not in STOP_WORDS_JA and not (len(form) == 1 and _HIRAGANA.match(form))


def tokenize_ja(text: str) -> list[str]:
    tokens = []
    for morpheme in _sudachi().tokenize(normalize(text)):
        if morpheme.part_of_speech()[0] in _DROPPED_POS:
            continue
        form = morpheme.normalized_form().lower().strip()
        if carries_meaning(form):
            tokens.append(form)
    return tokens


def tokenize(text: str) -> list[str]:
    """Latin runs take the English path, the rest goes to Sudachi (only if it holds Japanese)."""
    tokens: list[str] = []
    # re.split with a group alternates: even items are between runs, odd items are Japanese runs.
    for index, run in enumerate(_JAPANESE_RUN.split(normalize(text))):
        if index % 2:
            tokens += tokenize_ja(run)
        elif run.strip():
            tokens += tokenize_en(run)
    return tokens


def morphemes(text: str) -> Iterator[tuple[int, int, str, str | None, str | None]]:
    """(start, end, surface, part of speech, normalized form) of each Japanese morpheme of an
    NFKC-normalized text, in order; each run between Japanese runs comes whole, with None for
    both. Offsets are the text's."""
    offset = 0
    for index, run in enumerate(_JAPANESE_RUN.split(text)):
        if index % 2:
            for m in _sudachi().tokenize(run):
                yield (offset + m.begin(), offset + m.end(), m.surface(), m.part_of_speech()[0],
                       m.normalized_form())
        elif run:
            yield offset, offset + len(run), run, None, None
        offset += len(run)


_KANA_ONLY = re.compile(r"[\u3041-\u30ff\uff66-\uff9f]+")
# Small kana written large, and the marks an IME slip or a reading's voicing changes (台引き is
# read ダイヒキ, 代引き ダイビキ): dropped from the key.
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_VOICING_MARKS = re.compile("[\u3099\u309a\u30fc]")


def phonetic(kana: str) -> str:
    """A kana string's key: katakana, voicing marks, long-vowel marks and small kana folded."""
    katakana = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in kana)
    return _VOICING_MARKS.sub("", unicodedata.normalize("NFD", katakana)).translate(_SMALL_KANA)


def readings(text: str) -> list[list[str]]:
    """The phonetic keys of each Japanese run's morphemes, one list per run: words typed in kana
    are keyed as written (Sudachi guesses odd readings for kana it cuts out of context), the
    others by their dictionary reading."""
    runs = []
    for index, run in enumerate(_JAPANESE_RUN.split(normalize(text))):
        if index % 2:
            runs.append([
                phonetic(surface if _KANA_ONLY.fullmatch(surface := m.surface()) else m.reading_form())
                for m in _sudachi().tokenize(run)
            ])
    return runs


def latin_words(text: str) -> list[str]:
    """The Latin-script words of a (Japanese) text, e.g. brand names kept as typed."""
    return _LATIN_WORD.findall(normalize(text))
