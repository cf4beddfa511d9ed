"""Coverage gaps: decided with the score the PM was shown, over the KPIs' default period, with
vague requests set apart from real recruiting needs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from catalog.db import transaction
from catalog.tables import RecommendationRequest
from models.glossary import Glossary
from service.kpis.gaps import is_vague
from tests.helpers.console import sign_in
from tests.helpers.kpis import MANAGER
from tests.helpers.service import Running


@pytest.mark.parametrize(("query", "vague"), [
    ("売上を伸ばしたい", True), ("売り上げアップしたい", True),
    ("売上を伸ばしたいので何か良いアプリある？", True),
    ("grow sales", True), ("Help us grow our business", True), ("we need more customers", True),
    ("定期購入を入れたい", False), ("ペット保険の紹介", False), ("集客を強化したい", False),
    ("subscriptions for coffee", False), ("NFT", False),
])
def test_vague_requests_name_only_business_goals(query: str, vague: bool) -> None:
    glossary = Glossary.load()
    assert is_vague(query, glossary.find(query)) is vague


def asked_on(running: Running, query: str, top_score: float | None, day: date) -> str:
    with transaction(running.sessions) as session:
        request = RecommendationRequest(query=query, language="ja", caller="test",
                                        top_score=top_score,
                                        created_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC))
        session.add(request)
        session.flush()
        return request.id


def test_vague_gaps_are_listed_apart_and_the_period_is_the_kpis(running: Running) -> None:
    today = date.today()
    vague = [asked_on(running, "売上を伸ばしたい", 0.01, today),
             asked_on(running, "grow sales", 0.01, today)]
    pets = asked_on(running, "ペット保険の紹介", 0.01, today)
    old = asked_on(running, "ペット保険の紹介", 0.01, date(today.year - 2, 1, 1))
    answer = running.client.get("/v1/gaps?threshold=0.03", headers=running.headers(MANAGER))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    kpis = running.client.get("/v1/kpis", headers=running.headers(MANAGER)).json()
    assert (body["from"], body["to"]) == (kpis["from"], kpis["to"])  # twelve months to today
    assert [g["request_ids"] for g in body["groups"]] == [[pets]]  # the old one is outside
    assert old not in answer.text
    assert sorted(i for g in body["vague"] for i in g["request_ids"]) == sorted(vague)
    assert all(g["vague"] for g in body["vague"]) and not body["groups"][0]["vague"]
    # The console's gaps page lists them apart too, after the recruiting needs
    sign_in(running.client, running.keys[MANAGER])
    page = running.client.get("/gaps").text
    need, heading = page.index("ペット保険の紹介"), page.index("ご要望が漠然としたもの")
    assert need < heading < page.index("売上を伸ばしたい")


def test_a_request_records_the_best_score_its_caller_was_shown(running: Running) -> None:
    answer = running.client.post("/v1/recommendations", json={"query": "定期購入を入れたい"},
                                 headers=running.headers("pm"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    with running.sessions() as session:
        recorded = session.scalar(select(RecommendationRequest.top_score)
                                  .where(RecommendationRequest.id == body["request_id"]))
    assert recorded == max(c["score"] for c in body["candidates"])
