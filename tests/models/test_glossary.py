import pytest

from models.glossary import DEFAULT_PATH, Glossary, GlossaryError


def test_japanese_query_expands_to_english_terms(glossary):
    expansion = glossary.expand("毎月届く定期便を始めたい")
    assert expansion.language == "ja"
    assert [e.id for e in expansion.entries] == ["subscriptions"]
    assert "recurring order" in expansion.terms_en
    assert expansion.terms == expansion.terms_en
    assert expansion.labels == ("定期購入",)


def test_english_terms_match_whole_words(glossary):
    expansion = glossary.expand("Sell Gift Cards and manage recurring orders")
    assert [e.id for e in expansion.entries] == ["subscriptions", "gift-cards"] or [
        e.id for e in expansion.entries] == ["gift-cards", "subscriptions"]
    assert "ギフトカード" in expansion.terms_ja
    assert glossary.expand("a giftcard").entries == ()  # not a word boundary match
    assert glossary.expand("Translate, please").labels == ("translation",)
    assert glossary.expand("customs translations").entries == ()  # plurals are listed, not folded


def test_a_shorter_form_inside_a_longer_match_is_ignored(glossary):
    # ギフト (gifts) is inside ギフトカード (gift cards): only the longer concept is meant.
    assert [e.id for e in glossary.expand("ギフトカードを売りたい").entries] == ["gift-cards"]
    assert [e.id for e in glossary.expand("ギフトを包みたい").entries] == ["gifts"]


def test_full_width_forms_match_after_nfkc(glossary):
    assert [e.id for e in glossary.expand("ｻﾌﾞｽｸを導入").entries] == ["subscriptions"]


def test_labels_follow_the_language(glossary):
    entry = glossary.by_id["translation"]
    assert glossary.label(entry, "ja") == "多言語化"
    assert glossary.label(entry, "en") == "translation"


def test_malformed_entries_are_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("entries:\n  - ja: [定期便]\n", encoding="utf-8")
    with pytest.raises(GlossaryError):
        Glossary.load(path)


def test_default_path_is_the_packaged_file():
    assert DEFAULT_PATH.parent.name == "data" and DEFAULT_PATH.parent.parent.name == "models"


def test_a_japanese_phrase_split_by_the_query_still_matches_in_order(tmp_path):
    path = tmp_path / "glossary.yaml"
    path.write_text(
        "entries:\n"
        "  - {id: bundles, ja: [セット販売], en: [bundle]}\n"
        "  - {id: gallery, ja: [商品画像], en: [image gallery]}\n",
        encoding="utf-8",
    )
    glossary = Glossary.load(path)
    expansion = glossary.expand("複数商品をセットにしてお得な価格で販売したい")
    assert [e.id for e in expansion.entries] == ["bundles"]
    # The same words in the other order are another thing (画像 … 商品 is not 商品画像).
    assert glossary.expand("画像をアップロードして商品を作りたい").entries == ()
    # English queries keep whole-phrase matching only.
    assert glossary.expand("a set of items for sale").entries == ()


def test_a_physical_shop_alone_does_not_mean_a_till():
    glossary = Glossary.load()
    assert "pos" not in [e.id for e in glossary.expand("実店舗の営業時間を表示したい").entries]
    assert "pos" in [e.id for e in glossary.expand("店舗レジと在庫を連携したい").entries]


@pytest.mark.parametrize("query", [
    "定期瓶を始めたい",  # the IME's other kanji for ていきびん
    "ていきこうにゅうアプリ",  # kana for kanji
    "よやく注文うけたい",  # kana cut apart by the analyser, whole words together
])
def test_a_form_spelled_otherwise_but_read_alike_matches(glossary, query):
    entries = [e.id for e in glossary.expand(query).entries]
    assert entries in (["subscriptions"], ["preorders"])


def test_a_reading_inside_a_longer_reading_match_is_ignored(glossary):
    # ギフト (gifts) is read inside ギフトカード (gift cards), as its written form is inside it
    assert [e.id for e in glossary.expand("ぎふとかーど売りたい").entries] == ["gift-cards"]


def test_a_short_or_partial_reading_does_not_match(glossary):
    assert glossary.expand("よやくしたい").entries == ()  # ヨヤク alone: too many words read so
    assert glossary.expand("ごほんやくそく").entries == ()  # ホンヤク (翻訳) over two words: コホン|ヤクソク
    assert glossary.expand("teikibin").entries == ()  # readings are Japanese text's only
