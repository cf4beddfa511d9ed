import pytest

from models.need import need_of


@pytest.mark.parametrize(("request_text", "need"), [
    ("The client sells coffee beans and wants customers to sign up for monthly deliveries",
     "customers to sign up for monthly deliveries"),
    ("coffee roaster client wants auto monthly deliveries — go-to app?", "auto monthly deliveries"),
    ("bike shop client: rent bikes by the hour. booking app?", "rent bikes by the hour. booking"),
    ("they want preorders for sold-out stuff. ideas?", "preorders for sold-out stuff."),
    ("Which app handles subscriptions?", "Which app handles subscriptions"),
    ("ideas?", "ideas?"),  # nothing left: the request as typed
    ("Sell gift cards and store credit", "Sell gift cards and store credit"),
])
def test_english_need_without_client_context_and_asking_words(request_text, need):
    assert need_of(request_text, "en") == need


@pytest.mark.parametrize(("request_text", "need"), [
    ("コーヒー豆屋さんのクライアント、定期便やりたいって。おすすめのアプリあります？",
     "定期便やりたいって。"),
    ("お菓子屋さんの件、セットで安く売りたいらしいです。バンドル系で何かあります？",
     "セットで安く売りたいらしいです。バンドル系で何かあります?"),  # the question names the need
    ("Tシャツを受注印刷で売りたいって 何がいい？", "Tシャツを受注印刷で売りたいって"),
    ("ギフトカードを販売したい", "ギフトカードを販売したい"),
])
def test_japanese_need_without_client_context_and_asking_words(request_text, need):
    assert need_of(request_text, "ja") == need


@pytest.mark.parametrize(("request_text", "language"), [
    ("Let customers choose the delivery date they want at checkout", "en"),
    ("Customers want to pay later in installments", "en"),
    ("実店舗、ネットショップの在庫をまとめて管理したい", "ja"),
])
def test_a_need_that_names_the_customer_or_a_shop_is_left_whole(request_text, language):
    assert need_of(request_text, language) == request_text
