"""What each channel reads: of a listing (the text each encoder embeds, its BM25 tokens, the
glossary concepts it names) and of a question (its BM25 tokens, MiniLM's English rendering)."""

from __future__ import annotations

from collections.abc import Sequence

from models.documents import Document
from models.engine.config import EngineConfig
from models.glossary import Expansion, Glossary
from models.lexical import document_tokens
from models.rendering import Renderer
from models.text import detect_language, has_japanese, latin_words, tokenize


class Texts:
    def __init__(self, config: EngineConfig, glossary: Glossary, renderer: Renderer, multilingual: bool):
        self.config, self.glossary, self.renderer = config, glossary, renderer
        self.has_multilingual = multilingual  # whether the e5 channel is on

    # -- a listing --------------------------------------------------------------------------
    def dense(self, document: Document) -> str:
        """MiniLM reads English only: a listing written (partly) in Japanese is encoded as its
        English rendering."""
        text = embedding_text(document, self.config.dense_sections)
        return self.renderer.render(text) if has_japanese(text) else text

    def multilingual(self, document: Document) -> str:
        """e5 reads a listing written in Japanese as written and as rendered: an English question
        then meets it in English words too (dev: parity of English questions 0.81 -> 0.82, EN
        nDCG@10 0.854 -> 0.858, JA 0.858 -> 0.862)."""
        text = embedding_text(document, self.config.multilingual_sections)
        return f"{text} {self.renderer.render(text)}" if written_in_japanese(document) else text

    def japanese_and_rendered_tokens(self, text: str, synonyms: bool = False) -> list[str]:
        """A text's BM25 tokens, plus those of its Japanese words' English rendering: English
        queries meet listings written in Japanese, and Japanese queries the English listings,
        on the words the glossary does not know. A listing's rendering carries each word's
        synonyms (dev: parity of English questions 0.82 -> 0.97, nDCG@10 kept 0.957 -> 0.972;
        a query's, only the first gloss: with all, hurried Japanese kept 0.92 -> 0.91)."""
        tokens = tokenize(text)
        if not has_japanese(text):
            return tokens
        return tokens + tokenize(self.renderer.render_japanese(text, synonyms))

    def listing_text_tokens(self, text: str) -> list[str]:
        return self.japanese_and_rendered_tokens(text, synonyms=True)

    def tokens_with(self, document: Document, concepts: frozenset[str]) -> list[str]:
        """Listing tokens, plus one "@entry" token per glossary concept the listing names, so
        a query in either language meets the listing on the concept itself."""
        tokens = document_tokens(document, self.config.field_weights, self.listing_text_tokens)
        if not self.config.concept_tokens:
            return tokens
        return tokens + [f"@{entry_id}" for entry_id in sorted(concepts)]

    def concepts_of(self, document: Document) -> frozenset[str]:
        text = " ".join([document.title, *document.texts()])
        return frozenset(entry.id for entry in self.glossary.find(text))

    # -- a question -------------------------------------------------------------------------
    def channel_texts(self, query: str, expansion: Expansion) -> dict[str, str]:
        texts = {"dense": query if expansion.language == "en" else self.english_rendering(query, expansion)}
        if self.has_multilingual:
            texts["multilingual"] = query
        return {channel: text for channel, text in texts.items() if text}

    def bm25_query_tokens(self, query: str, expansion: Expansion) -> list[str]:
        tokens = self.japanese_and_rendered_tokens(query)
        if expansion.language == "ja" or self.config.expand_english:
            tokens += tokenize(" ".join(expansion.terms_en))
        if self.config.concept_tokens:
            tokens += [f"@{entry.id}" for entry in expansion.entries]
        return list(dict.fromkeys(tokens))

    def english_rendering(self, query: str, expansion: Expansion) -> str:
        """What the English-only MiniLM can read of a Japanese query: the glossary's English
        terms plus the brand names and other Latin words typed in it; when the glossary knows
        none of its words, the query's dictionary rendering (dev: JA nDCG@10 0.847 -> 0.858;
        the rendering beside the glossary's terms: 0.849)."""
        if not expansion.entries:
            return self.renderer.render(query)
        limit = self.config.rendering_terms or None
        terms = [term for entry in expansion.entries for term in entry.en[:limit]]
        return ", ".join(dict.fromkeys([*terms, *latin_words(query)]))


def embedding_text(document: Document, sections: Sequence[str]) -> str:
    parts = [document.title, *document.texts(*sections)]
    return ". ".join(part.strip().rstrip(". ") for part in parts if part.strip())


def written_in_japanese(document: Document) -> bool:
    """A listing whose own words are Japanese, with no description in English."""
    described = document.texts("description", "description_ja")
    return has_japanese(" ".join([document.title, *described, *document.texts("benefit")])) and not any(
        detect_language(text) == "en" for text in document.texts("description"))
