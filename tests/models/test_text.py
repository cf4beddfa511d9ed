from models.text import (
    detect_language,
    latin_words,
    phonetic,
    readings,
    tokenize,
    tokenize_en,
    tokenize_ja,
)


def test_language_follows_the_script():
    assert detect_language("Sell gift cards and store credit") == "en"
    assert detect_language("ギフトカードを販売したい") == "ja"
    # Mostly Latin brand names, but the hiragana says a Japanese PM wrote it.
    assert detect_language("FacebookやInstagramで販売したい") == "ja"
    assert detect_language("Sell on 楽天 and Amazon") == "en"
    assert detect_language("多言語対応") == "ja"  # kanji only


def test_english_is_lowercased_stemmed_and_stripped_of_stop_words():
    assert tokenize_en("The Subscriptions for our Stores") == ["subscript", "store"]


def test_japanese_keeps_content_words_in_normalized_form():
    tokens = tokenize_ja("定期便を始めたい")
    assert "定期便" in tokens and "始める" in tokens
    assert "を" not in tokens and "たい" not in tokens


def test_mixed_text_sends_each_run_to_its_tokenizer():
    tokens = tokenize("Shopify Plusで使えるsubscriptionアプリ")
    assert tokens[:2] == ["shopifi", "plus"]
    assert "subscript" in tokens and "アプリ" in tokens and "使う" in tokens  # normalized form
    assert "で" not in tokens


def test_full_width_latin_is_folded():
    assert tokenize("ＧＤＰＲ対応") == ["gdpr", "対応"]
    assert latin_words("ＧＤＰＲ対応のAmazon出品") == ["GDPR", "Amazon"]


def test_customers_do_not_stem_to_customised_products():
    assert tokenize_en("customers customer") == ["customer", "customer"]
    assert tokenize_en("customized customizer")[0] == "custom"
    assert "customs" in tokenize_en("customs duties")


def test_british_spellings_meet_the_american_ones():
    assert tokenize_en("personalise organised") == tokenize_en("personalize organized")
    assert tokenize_en("rise wise") == ["rise", "wise"]  # short words keep their -ise


def test_readings_key_each_japanese_word_by_sound():
    assert readings("定期瓶") == [["テイキ", "ヒン"]]  # voicing folded: 便 (ビン) and 瓶 (ビン) alike
    assert readings("定期便") == [["テイキヒン"]]
    assert readings("ぽいんと Amazon ポイント") == [["ホイ", "ント"], ["ホイント"]]  # one list per run
    assert readings("Amazon") == []


def test_phonetic_folds_kana_voicing_length_and_small_letters():
    assert phonetic("ちゅうもん") == phonetic("チュウモン") == "チユウモン"
    assert phonetic("ダイビキ") == phonetic("たいひき") == "タイヒキ"
    assert phonetic("ポイント") == phonetic("ぽいんと") == "ホイント"
    assert phonetic("バー") == "ハ"
