"""The bilingual glossary: the bridge from a Japanese need to the English words of the listings.

File format (`models/data/glossary.yaml`): `entries: [{id, ja: [...], en: [...], label_ja}]`.
Japanese forms match as substrings after NFKC; English terms match as whole lower-case word
sequences ("Pre-Order" finds "pre order"). In a Japanese query, a form of several words also
matches when its words occur in order with others between them (セットにしてお得に販売 names
セット販売), since a request inflects and splits the set phrases the file lists. Plurals are not
folded: the file lists them. Folding by stem was measured and rejected: "customers" and
"customs" share the stem "custom".
A Japanese query also names an entry whose form it spells with other kanji or in kana, read
alike (研削 for 検索, よやく for 予約: the slips of an IME and of a hurried PM), when the form's
reading is long enough to be unambiguous and spans whole words of the query.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from models.text import (
    Language,
    detect_language,
    english_words,
    normalize,
    readings,
    tokenize,
)

DEFAULT_PATH = Path(__file__).parent / "data" / "glossary.yaml"
_JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_ALL_JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u3005]+")
# Shorter readings (テイキ, ヨヤク, カイイン) are shared by too many other words to stand alone.
READING_MIN = 4


class GlossaryError(ValueError):
    """The glossary file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Entry:
    id: str
    ja: tuple[str, ...]
    en: tuple[str, ...]
    label_ja: str

    def label(self, language: Language) -> str:
        if language == "ja":
            return self.label_ja or (self.ja[0] if self.ja else self.id)
        return self.en[0] if self.en else self.id


@dataclass(frozen=True)
class Expansion:
    """What the glossary recognised in a query and the other language's words for it."""

    language: Language
    entries: tuple[Entry, ...] = ()
    terms_en: tuple[str, ...] = ()
    terms_ja: tuple[str, ...] = ()
    labels: tuple[str, ...] = field(default=())

    @property
    def terms(self) -> tuple[str, ...]:
        """The other language's terms: English for a Japanese query, Japanese for English."""
        return self.terms_en if self.language == "ja" else self.terms_ja


class Glossary:
    def __init__(self, entries: Iterable[Entry]):
        self.entries = tuple(entries)
        self.by_id = {entry.id: entry for entry in self.entries}
        forms = [(normalize(form).lower(), entry) for entry in self.entries for form in entry.ja]
        # Forms with kana or kanji cannot occur in a text without them (most listings): skipping
        # them there cuts annotating 4,750 listings from 2.4 s to a fraction of that.
        self._ja_forms = [(form, entry) for form, entry in forms if _JAPANESE.search(form)]
        self._latin_forms = [(form, entry) for form, entry in forms if not _JAPANESE.search(form)]
        self._ja_phrases = [
            (words, entry) for form, entry in self._ja_forms if len(words := tuple(tokenize(form))) > 1
        ]
        # English terms indexed by their first word: one pass over a text's words finds them all.
        self._en_terms: dict[str, list[tuple[tuple[str, ...], Entry]]] = defaultdict(list)
        for entry in self.entries:
            for term in entry.en:
                words = tuple(english_words(term))
                if words:
                    self._en_terms[words[0]].append((words, entry))

    @classmethod
    def load(cls, path: Path | str | None = None) -> Glossary:
        path = Path(path) if path is not None else DEFAULT_PATH
        with path.open(encoding="utf-8") as handle:
            # libyaml's parser: 0.04 s against 0.33 s for the pure-Python one, at every start
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        return cls(_parse_entry(raw, index) for index, raw in enumerate(data.get("entries") or []))

    @classmethod
    def empty(cls) -> Glossary:
        return cls(())

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever an entry does: what was tagged with another glossary is re-tagged."""
        return hashlib.sha256(repr(self.entries).encode()).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.entries)

    def label(self, entry: Entry, language: Language) -> str:
        return entry.label(language)

    def find(self, text: str) -> list[Entry]:
        """Entries named in a text, in either language, in order of first appearance."""
        # Japanese hits first (character offsets), then English (word offsets), each in order.
        ja_hits, en_hits = self._find_ja(normalize(text).lower()), self._find_en(text)
        hits = sorted(ja_hits, key=lambda hit: hit[0]) + sorted(en_hits, key=lambda hit: hit[0])
        seen: dict[str, Entry] = {}
        for _, entry in hits:
            seen.setdefault(entry.id, entry)
        return list(seen.values())

    def spans(self, text: str) -> list[tuple[int, int, Entry]]:
        """(start, end, entry) of every Japanese form's occurrences in an NFKC-normalized text,
        longer ones first and none overlapping another, in order of the text."""
        text = text.lower()
        found = []
        for form, entry in self._ja_forms:
            start = text.find(form)
            while start >= 0:
                found.append((start, start + len(form), entry))
                start = text.find(form, start + len(form))
        kept: list[tuple[int, int, Entry]] = []
        for span in sorted(found, key=lambda s: (s[0] - s[1], s[0])):
            if all(span[1] <= other[0] or other[1] <= span[0] for other in kept):
                kept.append(span)
        return sorted(kept, key=lambda s: s[0])

    def expand(self, query: str, language: Language | None = None) -> Expansion:
        language = language or detect_language(query)
        entries = self.find(query)
        if language == "ja":
            entries += self._find_ja_phrases(query, {entry.id for entry in entries})
            entries += self._find_by_reading(query, {entry.id for entry in entries})
        return Expansion(
            language=language,
            entries=tuple(entries),
            terms_en=_unique(term for entry in entries for term in entry.en),
            terms_ja=_unique(form for entry in entries for form in entry.ja),
            labels=tuple(entry.label(language) for entry in entries),
        )

    def _find_ja(self, text: str) -> list[tuple[int, Entry]]:
        spans = []
        candidates = self._ja_forms + self._latin_forms if _JAPANESE.search(text) else self._latin_forms
        for form, entry in candidates:
            start = text.find(form)
            if form and start >= 0:
                spans.append((start, start + len(form), entry))
        # A form inside a longer match of another entry is a false friend (ギフト in ギフトカード).
        return [
            (start, entry) for start, end, entry in spans
            if not any(
                s <= start and end <= e and (e - s) > (end - start) and other.id != entry.id
                for s, e, other in spans
            )
        ]

    def _find_ja_phrases(self, query: str, known: set[str]) -> list[Entry]:
        """Entries one of whose multi-word forms has its words in the query, in order."""
        tokens = tokenize(query)
        present = set(tokens)  # most phrases lack a word of the query: skipped at C speed
        found: dict[str, Entry] = {}
        for words, entry in self._ja_phrases:
            if (present.issuperset(words) and entry.id not in known and entry.id not in found
                    and _in_order(words, tokens)):
                found[entry.id] = entry
        return list(found.values())

    @cached_property
    def _reading_forms(self) -> list[tuple[str, Entry]]:
        """The phonetic key of each all-Japanese form, made at the first Japanese query."""
        keyed = []
        for form, entry in self._ja_forms:
            runs = readings(form) if _ALL_JAPANESE.fullmatch(form) else []
            if len(runs) == 1 and len(key := "".join(runs[0])) >= READING_MIN:
                keyed.append((key, entry))
        return keyed

    def _find_by_reading(self, query: str, known: set[str]) -> list[Entry]:
        """Entries a form of which the query spells otherwise, read alike, over whole words; as
        with the written forms, one inside a longer match of another entry does not count
        (ソウリョウ, shipping rates, inside ソウリョウムリョウ, free shipping)."""
        spans = []
        for number, run in enumerate(readings(query)):
            joined = "".join(run)
            bounds = set(itertools.accumulate(map(len, run), initial=0))
            spans += [((number, start), len(key), entry) for key, entry in self._reading_forms
                      for start in _word_spans(key, joined, bounds)]
        found: dict[str, Entry] = {}
        for (run_number, start), length, entry in spans:
            if entry.id in known or entry.id in found:
                continue
            if not any(r == run_number and s <= start and start + length <= s + n and n > length
                       and other.id != entry.id for (r, s), n, other in spans):
                found[entry.id] = entry
        return list(found.values())

    def _find_en(self, text: str) -> list[tuple[int, Entry]]:
        words = english_words(text)
        hits = []
        for position, word in enumerate(words):
            for term, entry in self._en_terms.get(word, ()):
                if tuple(words[position : position + len(term)]) == term:
                    hits.append((position, entry))
        return hits


def _parse_entry(raw: object, index: int) -> Entry:
    if not isinstance(raw, dict) or not raw.get("id"):
        raise GlossaryError(f"glossary entry {index}: needs a mapping with an id")
    ja, en = raw.get("ja") or [], raw.get("en") or []
    if not isinstance(ja, list) or not isinstance(en, list) or not (ja or en):
        raise GlossaryError(f"glossary entry {raw['id']}: ja and en must be lists, one non-empty")
    return Entry(
        id=str(raw["id"]),
        ja=tuple(str(form) for form in ja if str(form).strip()),
        en=tuple(str(term) for term in en if str(term).strip()),
        label_ja=str(raw.get("label_ja") or (ja[0] if ja else "")),
    )


def _word_spans(key: str, joined: str, bounds: set[int]) -> list[int]:
    """Where the key occurs in the joined readings from a word's start to a word's end."""
    starts, start = [], joined.find(key)
    while start >= 0:
        if start in bounds and start + len(key) in bounds:
            starts.append(start)
        start = joined.find(key, start + 1)
    return starts


def _in_order(words: tuple[str, ...], tokens: list[str]) -> bool:
    remaining = iter(tokens)
    return all(word in remaining for word in words)  # each `in` consumes the iterator up to it


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
