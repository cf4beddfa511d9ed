"""Amounts owed from structured revenue-share terms, worked out by hand for each shape of terms;
the prefill from Japanese and English text; who may see and set them."""

from __future__ import annotations

from datetime import date

import pytest

from service.kpis import metrics
from service.kpis.metrics import IntroFacts, Period
from service.kpis.terms import ShareTerms, prefill
from tests.helpers.service import Running

D = date
Q2 = Period(D(2026, 4, 1), D(2026, 6, 30))
# live since 15 March 2026, ¥10,000 a month: Mar, Apr, May, Jun ... counted per calendar month
MONTHLY = IntroFacts("A", "live", adopted_on=D(2026, 3, 1), live_on=D(2026, 3, 15),
                     revenue=10_000, revenue_period="monthly")
# one-off ¥50,000, live on 10 May 2026
ONE_OFF = IntroFacts("A", "live", adopted_on=D(2026, 5, 1), live_on=D(2026, 5, 10),
                     revenue=50_000)


@pytest.mark.parametrize(("terms", "intro", "period", "expected"), [
    # 15% of ¥50,000 = 7,500, plus the ¥30,000 fee for going live in the period: 37,500
    (ShareTerms(percent=15, months=12, per_go_live=30_000), ONE_OFF, Q2, 37_500),
    # the same introduction in the first quarter: nothing went live, nothing earned
    (ShareTerms(percent=15, months=12, per_go_live=30_000), ONE_OFF,
     Period(D(2026, 1, 1), D(2026, 3, 31)), 0),
    # 20% of Apr, May, Jun x 10,000 = 6,000 (March, before the period, is not the period's)
    (ShareTerms(percent=20), MONTHLY, Q2, 6_000),
    # 20% for 2 months from the go-live month: March and April only; in Q2, April: 2,000
    (ShareTerms(percent=20, months=2), MONTHLY, Q2, 2_000),
    # a fee of ¥1,000 for every month live: Apr, May, Jun = 3,000
    (ShareTerms(per_go_live=1_000, fee_period="monthly"), MONTHLY, Q2, 3_000),
    # one-off fee, gone live in March: nothing in Q2
    (ShareTerms(per_go_live=30_000), MONTHLY, Q2, 0),
    # 50% = 5,000 a month, capped at 12,000 over its life: March 5,000, April 5,000, May 2,000
    (ShareTerms(percent=50, cap=12_000), MONTHLY, Q2, 7_000),
    (ShareTerms(percent=50, cap=12_000), MONTHLY, Period(D(2026, 7, 1), D(2026, 9, 30)), 0),
    # churned on 20 May: Apr and May count (the churn month included); 10% = 2,000
    (ShareTerms(percent=10), IntroFacts("A", "churned", live_on=D(2026, 3, 15),
                                        churned_on=D(2026, 5, 20), revenue=10_000,
                                        revenue_period="monthly"), Q2, 2_000),
    # rejected: nothing, whatever the terms
    (ShareTerms(percent=10, per_go_live=5_000), IntroFacts("A", "rejected", revenue=10_000),
     Q2, 0),
])
def test_owed_equals_the_hand_computed_amount(
    terms: ShareTerms, intro: IntroFacts, period: Period, expected: int
) -> None:
    assert metrics.revenue_share_owed([intro], period, {"A": terms}) == expected


def test_owed_over_consecutive_periods_adds_up_to_the_whole() -> None:
    terms = ShareTerms(percent=50, months=6, per_go_live=1_000, fee_period="monthly", cap=25_000)
    months = Period(D(2026, 1, 1), D(2026, 12, 31)).months()
    by_month = [metrics.owed(MONTHLY, terms, month) for month in months]
    # March-August (6 months) x (5,000 + 1,000) = 36,000, capped at 25,000: 6+6+6+6+1
    assert by_month[2:7] == [6_000, 6_000, 6_000, 6_000, 1_000] and sum(by_month) == 25_000
    assert metrics.owed_to_date(MONTHLY, terms, D(2026, 12, 31)) == 25_000


def test_no_terms_owe_none_rather_than_zero() -> None:
    assert metrics.revenue_share_owed([ONE_OFF], Q2, {}) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("初年度売上の15%（12ヶ月）、稼働1件につき¥30,000",
     ShareTerms(percent=15, months=12, per_go_live=30_000)),
    ("15% of first-year revenue (12 months), ¥30,000 per go-live",
     ShareTerms(percent=15, months=12, per_go_live=30_000)),
    ("売上の１０％、月額５，０００円/店舗、上限50万円",
     ShareTerms(percent=10, per_go_live=5_000, fee_period="monthly", cap=500_000)),
    ("20% of fees, capped at ¥500,000", ShareTerms(percent=20, cap=500_000)),
])
def test_prefill_reads_japanese_and_english_whole(text: str, expected: ShareTerms) -> None:
    read = prefill(text)
    assert read.terms == expected and read.not_understood == []


def test_prefill_says_what_it_did_not_understand() -> None:
    read = prefill("売上の20%、ただし年間最低保証あり")
    assert read.terms == ShareTerms(percent=20)
    assert read.not_understood == ["ただし年間最低保証あり"]
    assert prefill("0.15 percentage points on card volume").terms.readable is False
    tiered = prefill("20% of fees for 12 months; 25% above 10 referrals a year")
    assert tiered.terms == ShareTerms(percent=20, months=12)
    assert tiered.not_understood == ["25% above 10 referrals a year"]


def test_prefill_is_linear_in_long_digit_runs() -> None:
    """Bounded patterns: a run of 20,000 digits is read, not understood, without backtracking
    through the run from every position (the cost is measured by `scripts.bench`, not here)."""
    read = prefill("1" * 20_000 + " pct " + "9" * 20_000 + "円")
    assert not read.terms.readable and len(read.not_understood) == 1


MANAGER = "partner_manager"


def test_prefill_route_and_structured_terms_for_managers_only(running: Running) -> None:
    text = {"text": "初年度売上の15%（12ヶ月）、稼働1件につき¥30,000、特別条件あり"}
    for role in ("pm", "viewer"):
        assert running.client.post("/v1/revenue-share/prefill", json=text,
                                   headers=running.headers(role)).status_code == 403
    read = running.client.post("/v1/revenue-share/prefill", json=text,
                               headers=running.headers(MANAGER))
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["revenue_share"] == {"percent": 15.0, "months": 12, "per_go_live": 30_000,
                                     "fee_period": "one_off", "cap": None, "currency": "JPY"}
    assert body["not_understood"] == ["特別条件あり"] and len(body["warnings"]) == 1

    partner = f"/v1/partners/{running.ids['t-konbini']}"
    saved = running.client.patch(partner, json={"revenue_share": body["revenue_share"]},
                                 headers=running.headers(MANAGER))
    assert saved.status_code == 200 and saved.json()["revenue_share"]["per_go_live"] == 30_000
    as_pm = running.client.get(partner, headers=running.headers("pm")).json()
    assert "revenue_share" not in as_pm
    refused = running.client.patch(partner, json={"revenue_share": {"cap": 10}},
                                   headers=running.headers(MANAGER))
    assert refused.status_code == 422  # neither a percent nor a fee: nothing to owe
