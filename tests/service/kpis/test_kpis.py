"""KPIs on a small fixture, against values worked out by hand; coverage gaps; access."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

import pytest

from catalog.db import transaction
from catalog.tables import Feedback, Initiative, Introduction, Partner, RecommendationRequest
from service.kpis import metrics
from service.kpis.gaps import load_gaps
from service.kpis.metrics import InitiativeFacts, IntroFacts, Period
from service.kpis.terms import ShareTerms, parse_terms
from tests.helpers.service import Running

MANAGER = "partner_manager"
PERIOD = Period(date(2026, 4, 1), date(2026, 6, 30))
D = date


def fixture_introductions(a: str, b: str, c: str) -> list[dict[str, Any]]:
    """Three partners: A (terms "20pct"), B (terms "¥5,000 per go-live"), C (no terms)."""
    return [
        # i1 A: live since before the period, monthly ¥10,000 -> Apr, May, Jun = ¥30,000
        dict(partner_id=a, status="live", proposed_on=D(2026, 3, 10), adopted_on=D(2026, 3, 20),
             live_on=D(2026, 3, 25), revenue=10_000, revenue_period="monthly", satisfaction=4),
        # i2 A: proposed, adopted, live and churned in the period, monthly ¥5,000 -> Apr, May
        dict(partner_id=a, status="churned", proposed_on=D(2026, 4, 2), adopted_on=D(2026, 4, 10),
             live_on=D(2026, 4, 15), churned_on=D(2026, 5, 20), revenue=5_000,
             revenue_period="monthly", satisfaction=2),
        # i3 B: one-off ¥200,000, live on 1 June
        dict(partner_id=b, status="live", proposed_on=D(2026, 5, 1), adopted_on=D(2026, 5, 10),
             live_on=D(2026, 6, 1), revenue=200_000, revenue_period="one_off", satisfaction=5),
        # i4 B: rejected in the period
        dict(partner_id=b, status="rejected", proposed_on=D(2026, 5, 3),
             rejected_on=D(2026, 5, 8)),
        # i5 C: still proposed
        dict(partner_id=c, status="proposed", proposed_on=D(2026, 6, 10)),
        # i6 C: proposed in the period, adopted after it: no adoption, no revenue in the period
        dict(partner_id=c, status="adopted", proposed_on=D(2026, 6, 20), adopted_on=D(2026, 7, 5),
             revenue=50_000),
        # i7 A: rejected before the period: nothing
        dict(partner_id=a, status="rejected", proposed_on=D(2026, 2, 1),
             rejected_on=D(2026, 2, 10)),
        # i8 C: churned before the period: not live at its start, its score not counted
        dict(partner_id=c, status="churned", proposed_on=D(2026, 1, 5), adopted_on=D(2026, 1, 10),
             live_on=D(2026, 1, 15), churned_on=D(2026, 3, 1), revenue=8_000,
             revenue_period="monthly", satisfaction=1),
    ]


def fixture_initiatives(a: str, b: str, c: str) -> list[dict[str, Any]]:
    return [
        dict(partner_id=a, status="succeeded", end_date=D(2026, 5, 15)),  # counts
        dict(partner_id=b, status="failed", end_date=D(2026, 6, 30)),  # counts (last day)
        dict(partner_id=a, status="succeeded", end_date=D(2026, 7, 10)),  # after the period
        dict(partner_id=c, status="cancelled", end_date=D(2026, 4, 10)),  # cancelled: left out
        dict(partner_id=a, status="running", end_date=None),  # not ended
        dict(partner_id=a, status="succeeded", end_date=D(2026, 4, 30)),  # counts
    ]


# Worked out by hand from the fixture above, period 2026-04-01 .. 2026-06-30:
EXPECTED_TOTAL = {
    # i1 3 months x 10,000 + i2 2 months (Apr, May) x 5,000 + i3 one-off 200,000
    "partner_sourced_revenue": 30_000 + 10_000 + 200_000,
    # A: 20% of (30,000 + 10,000) = 8,000; B: ¥5,000 for i3 going live in June
    "revenue_share_owed": 8_000 + 5_000,
    "introductions": 5,  # proposed in the period: i2, i3, i4, i5, i6
    "adoptions": 2,  # adopted in the period: i2, i3 (i1 in March, i6 in July)
    "rejections": 1,  # i4 (i7 in February)
    "adoption_rate": round(2 / 3, 4),  # 2 / (2 + 1)
    "active_partners": 3,  # A (i1 live, i2), B (i3, i4), C (i5, i6)
    "initiative_success_rate": round(2 / 3, 4),  # 2 succeeded / (2 + 1 failed)
    "churn_rate": round(1 / 3, 4),  # i2 churned / (i1 live at start + i2, i3 went live)
    "csat": round((4 + 2 + 5) / 3, 2),  # i1, i2, i3 (i8 not engaged, i4-i6 unscored)
}
EXPECTED_PER_PARTNER = {
    "B": {"partner_sourced_revenue": 200_000, "revenue_share_owed": 5_000, "introductions": 2,
          "adoptions": 1, "rejections": 1, "adoption_rate": 0.5, "active_partners": 1,
          "initiative_success_rate": 0.0,  # 0 / (0 + 1 failed)
          "churn_rate": 0.0,  # 0 churned / (0 + i3 went live)
          "csat": 5.0},
    "A": {"partner_sourced_revenue": 40_000, "revenue_share_owed": 8_000, "introductions": 1,
          "adoptions": 1, "rejections": 0, "adoption_rate": 1.0, "active_partners": 1,
          "initiative_success_rate": 1.0,  # 2 / 2
          "churn_rate": 0.5,  # i2 / (i1 at start + i2 went live)
          "csat": 3.0},  # (4 + 2) / 2
    "C": {"partner_sourced_revenue": 0, "revenue_share_owed": None, "introductions": 2,
          "adoptions": 0, "rejections": 0, "adoption_rate": None, "active_partners": 1,
          "initiative_success_rate": None, "churn_rate": None, "csat": None},
}
TERMS = {"A": ShareTerms(percent=20.0), "B": ShareTerms(per_go_live=5_000)}


def pure_facts() -> metrics.Facts:
    return metrics.Facts(
        introductions=[IntroFacts(**row) for row in fixture_introductions("A", "B", "C")],
        initiatives=[
            InitiativeFacts(row["partner_id"], row["status"], None, row["end_date"])
            for row in fixture_initiatives("A", "B", "C")
        ],
        terms=TERMS,
    )


def test_every_kpi_equals_the_hand_computed_value() -> None:
    assert vars(metrics.compute(pure_facts(), PERIOD)) == EXPECTED_TOTAL


def test_per_partner_kpis_equal_the_hand_computed_values_in_revenue_order() -> None:
    result = metrics.per_partner(pure_facts(), PERIOD)
    assert list(result) == ["B", "A", "C"]
    assert {pid: vars(values) for pid, values in result.items()} == EXPECTED_PER_PARTNER


def test_monthly_revenue_counts_calendar_months_and_rates_need_a_denominator() -> None:
    monthly = IntroFacts("A", "live", live_on=D(2026, 1, 31), revenue=1_000,
                         revenue_period="monthly")
    assert metrics.counted_revenue(monthly, Period(D(2026, 1, 1), D(2026, 3, 31))) == 3_000
    assert metrics.counted_revenue(monthly, Period(D(2025, 1, 1), D(2025, 12, 31))) == 0
    assert metrics.adoption_rate([], PERIOD) is None and metrics.churn_rate([], PERIOD) is None


def seed_fixture(running: Running) -> dict[str, str]:
    ids = {"A": running.ids["t-sub"], "B": running.ids["t-konbini"], "C": running.ids["t-reviews"]}
    with transaction(running.sessions) as session:
        session.get(Partner, ids["B"]).revenue_share = TERMS["B"].to_stored()  # type: ignore[union-attr]
        session.add_all(Introduction(**row) for row in fixture_introductions(*ids.values()))
        session.add_all(
            Initiative(kind="event", title=f"initiative {n}", **row)
            for n, row in enumerate(fixture_initiatives(*ids.values()))
        )
    return ids


def test_kpis_over_http_equal_the_hand_computed_values(running: Running) -> None:
    ids = seed_fixture(running)
    answer = running.client.get(
        "/v1/kpis?from=2026-04-01&to=2026-06-30", headers=running.headers(MANAGER)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["from"] == "2026-04-01" and body["to"] == "2026-06-30"
    assert {k: body[k] for k in EXPECTED_TOTAL} == EXPECTED_TOTAL
    names = {ids[k]: k for k in ids}
    per_partner = {names[p["partner_id"]]: {k: p[k] for k in EXPECTED_TOTAL} for p in body["partners"]}
    assert [names[p["partner_id"]] for p in body["partners"]] == ["B", "A", "C"]
    assert per_partner == EXPECTED_PER_PARTNER
    assert "SECRET-REVSHARE" not in answer.text and "per referred merchant" not in answer.text

    one = running.client.get(
        f"/v1/kpis?from=2026-04-01&to=2026-06-30&partner_id={ids['A']}",
        headers=running.headers(MANAGER),
    ).json()
    assert {k: one[k] for k in EXPECTED_TOTAL} == EXPECTED_PER_PARTNER["A"]
    assert [p["partner_id"] for p in one["partners"]] == [ids["A"]]


def test_kpi_definitions_are_in_the_openapi_description(running: Running) -> None:
    description = running.client.get("/openapi.json").json()["paths"]["/v1/kpis"]["get"]["description"]
    for name in EXPECTED_TOTAL:
        assert f"**{name}**" in description
    assert "calendar month" in description and "adoptions / (adoptions + rejections)" in description


@pytest.mark.parametrize("path", ["/v1/kpis", "/v1/gaps"])
def test_kpi_routes_refuse_without_key_below_manager_and_bad_input(
    running: Running, path: str
) -> None:
    assert running.client.get(path).status_code == 401
    assert running.client.get(path, headers=running.headers("pm")).status_code == 403
    bad = running.client.get(f"{path}?from=2026-13-01", headers=running.headers(MANAGER))
    assert bad.status_code == 422 and bad.json()["error"] == "validation_error"
    backwards = running.client.get(f"{path}?from=2026-05-01&to=2026-04-01",
                                   headers=running.headers(MANAGER))
    assert backwards.status_code == 400
    assert running.client.get(path, headers=running.headers("admin")).status_code == 200


def test_kpis_for_an_unknown_partner_is_404(running: Running) -> None:
    answer = running.client.get("/v1/kpis?partner_id=nope", headers=running.headers(MANAGER))
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def asked(running: Running, query: str, top_score: float | None, day: int,
          verdicts: tuple[str, ...] = ()) -> str:
    with transaction(running.sessions) as session:
        request = RecommendationRequest(
            query=query, language="ja", caller="test", top_score=top_score,
            created_at=datetime(2026, 5, day, 10, tzinfo=UTC),
        )
        session.add(request)
        session.flush()
        for n, verdict in enumerate(verdicts):
            session.add(Feedback(request_id=request.id, partner_id=running.ids["t-reviews"],
                                 verdict=verdict, caller="test", dedupe_key=f"{request.id}:{n}"))
        return request.id


def test_gaps_group_similar_unmet_requests(running: Running) -> None:
    pets = [asked(running, "ペットの健康相談と連携したい", 0.016, 1),
            asked(running, "ペットの健康相談をしたい", 0.017, 2)]
    subs = [asked(running, "定期購入を入れたい", 0.02, 3),
            asked(running, "We need subscriptions for coffee", 0.04, 4, ("not_a_fit", "not_a_fit"))]
    asked(running, "定期購入を入れたい", 0.045, 5)  # covered well: no gap
    asked(running, "subscriptions", 0.045, 6, ("proposed", "not_a_fit"))  # one was proposed
    asked(running, "宇宙旅行", 0.01, 20)  # outside the dates asked for
    answer = running.client.get(
        "/v1/gaps?from=2026-05-01&to=2026-05-10&threshold=0.03", headers=running.headers(MANAGER)
    )
    assert answer.status_code == 200, answer.text
    groups = answer.json()["groups"]
    assert len(groups) == 2
    by_ids = {frozenset(g["request_ids"]): g for g in groups}
    subscription = by_ids[frozenset(subs)]
    assert subscription["reasons"] == {"low_score": 1, "not_a_fit": 1}
    assert subscription["concepts"] and subscription["best_score"] == 0.04
    pet = by_ids[frozenset(pets)]
    assert pet["reasons"] == {"low_score": 2} and pet["requests"] == 2


def test_the_database_picks_the_gaps_the_newest_first(running: Running) -> None:
    """Only gap requests come back from the database, however many others are stored, and no
    more than asked for: the grouping never loads the whole history."""
    gaps = [asked(running, "ペットの健康相談", 0.01, 1), asked(running, "宇宙旅行", None, 2),
            asked(running, "NFT", 0.04, 3, ("not_a_fit",))]
    for day in range(4, 9):
        asked(running, "定期購入を入れたい", 0.045, day)  # covered well
    asked(running, "subscriptions", 0.045, 9, ("proposed", "not_a_fit"))
    with running.sessions() as session:
        found = load_gaps(session, 0.03)
        newest = load_gaps(session, 0.03, limit=2)
    assert [a.id for a in found] == gaps[::-1]
    assert [a.id for a in newest] == gaps[:0:-1]
    assert newest[0].verdicts == ("not_a_fit",)


def test_terms_are_read_in_linear_time(running: Running) -> None:
    """Long runs of digits in revenue-share terms cost no more than their length: 200
    introductions of a partner whose terms are 2,000 digits list in under a second (the
    unbounded pattern took 15 s to read 20,000 digits once)."""
    started = time.perf_counter()
    assert not parse_terms.__wrapped__("1" * 20_000 + " pct").readable  # read, not cached
    assert time.perf_counter() - started < 0.5
    sub = running.ids["t-sub"]
    with transaction(running.sessions) as session:
        session.get(Partner, sub).revenue_share_terms = "7" * 2_000  # type: ignore[union-attr]
        session.add_all(Introduction(partner_id=sub, request_text="x", status="live", revenue=1000,
                                     proposed_on=date(2026, 1, 1), live_on=date(2026, 2, 1))
                        for _ in range(200))
    started = time.perf_counter()
    listed = running.client.get("/v1/introductions?limit=200", headers=running.headers(MANAGER))
    assert listed.status_code == 200 and len(listed.json()["items"]) == 200
    assert time.perf_counter() - started < 1.0
