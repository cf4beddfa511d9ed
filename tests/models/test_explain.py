"""Why a partner matched: only words that say something of the need are shown as matched."""

from __future__ import annotations

from models.explain import matched_terms


def test_generic_request_words_are_never_what_matched() -> None:
    words = [("定期", "定期"), ("導入", "導入"), ("用", "用"), ("ギフト", "ギフト")]
    listing = {"定期", "導入", "用", "ギフト", "アプリ"}
    assert matched_terms([], set(), words, listing, "ja") == ["定期", "ギフト"]
    english = [("gift", "gift"), ("app", "app"), ("want", "want")]
    assert matched_terms([], set(), english, {"gift", "app", "want"}, "en") == ["gift"]
