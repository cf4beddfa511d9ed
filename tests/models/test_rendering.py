"""English renderings of Japanese text: the glossary's terms, JMdict's glosses (the real file)."""

import pytest

from models.rendering import Dictionary, Renderer


@pytest.fixture(scope="module")
def dictionary() -> Dictionary:
    return Dictionary()


def test_the_dictionary_gives_a_common_words_first_gloss(dictionary):
    assert dictionary.gloss("地図") == "map"
    assert dictionary.gloss("購入") == "purchase"
    assert dictionary.gloss("ありえない単語") is None


def test_glosses_lose_their_notes_in_parentheses(dictionary):
    gloss = dictionary.gloss("名入れ")
    assert gloss is not None and "(" not in gloss and gloss.startswith("putting a name")


def test_glossary_terms_come_first_then_glosses_in_order(glossary, dictionary):
    renderer = Renderer(glossary, dictionary)
    # 定期購入 is the glossary's (subscriptions), 地図 and 店舗 are the dictionary's
    assert renderer.render("定期購入と地図") == "subscription map"
    assert renderer.render_japanese("Bold 定期購入：店舗の地図") == "subscription shop map"


def test_latin_runs_are_kept_and_japanese_punctuation_becomes_english(glossary, dictionary):
    rendered = Renderer(glossary, dictionary).render("Seal 定期購入。地図")
    assert rendered.startswith("Seal subscription") and ". " in rendered and rendered.endswith("map")


def test_grammar_and_light_verbs_are_not_rendered(glossary, dictionary):
    assert Renderer(glossary, dictionary).render_japanese("地図をすることができる") == "map"


def test_another_glossary_renders_otherwise(dictionary, tmp_path):
    from models.glossary import Glossary

    path = tmp_path / "other.yaml"
    path.write_text("entries:\n  - {id: maps, ja: [地図], en: [store map]}\n", encoding="utf-8")
    assert Renderer(Glossary.load(path), dictionary).render("地図") == "store map"


def test_a_listings_words_may_carry_every_gloss_of_their_first_sense(glossary, dictionary):
    assert dictionary.glosses("店舗") == ("shop", "store")
    renderer = Renderer(glossary, dictionary)
    assert renderer.render_japanese("店舗の地図") == "shop map"
    assert renderer.render_japanese("店舗の地図", synonyms=True) == "shop store map"


def test_a_lone_kana_between_latin_words_is_grammar_not_a_word(glossary, dictionary):
    assert Renderer(glossary, dictionary).render("FacebookやInstagram") == "Facebook Instagram"
