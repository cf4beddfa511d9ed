"""KPIs per partner type and per partner, with targets and progress, against values worked out
by hand: a partner whose type changes in the middle of the quarter, a period with no target."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date
from typing import Any

from service.kpis.report import build_report, render_csv, render_html, render_markdown
from service.kpis.targets import current_quarter, parse_period, period_name
from tests.helpers.console import sign_in
from tests.helpers.kpis import EXPECTED_PER_PARTNER, MANAGER, typed_fixture
from tests.helpers.service import Running

EMPTY = {"partner_sourced_revenue": 0, "revenue_share_owed": None, "introductions": 0,
         "adoptions": 0, "rejections": 0, "adoption_rate": None, "active_partners": 0,
         "initiative_success_rate": None, "churn_rate": None, "csat": None,
         "active_installs": 0, "joint_initiatives": 0}
# 2026-Q2, worked out by hand (test_kpis.py's fixture): B counts as a reseller, its type on 30 June
EXPECTED_Q2 = {
    # i3 live on 30 June; B's failed initiative (no start, ended 30 June) was held in Q2
    "reseller": {**EXPECTED_PER_PARTNER["B"], "active_installs": 1, "joint_initiatives": 1},
    # i1 live on 30 June (i2 churned 20 May); initiatives ended 30 April, 15 May and 10 July
    # (no start date: held in Q2); the running one has no date at all and is left out
    "system_integration": {**EXPECTED_PER_PARTNER["A"], "active_installs": 1,
                           "joint_initiatives": 3},
    "brand_collaboration": EMPTY,
    # C only: its initiative was cancelled
    "referral": {**EXPECTED_PER_PARTNER["C"], "active_installs": 0, "joint_initiatives": 0},
}
# May 2026: B was still a referral partner then
EXPECTED_MAY = {
    "reseller": EMPTY,
    # A: i1 (10,000) and i2 (5,000) live in May; 20% owed; i2 churned of i1, i2 live on 1 May;
    # scores 4 and 2; the initiative ended 15 May succeeded; held: 15 May and 10 July
    "system_integration": {"partner_sourced_revenue": 15_000, "revenue_share_owed": 3_000,
                           "introductions": 0, "adoptions": 0, "rejections": 0,
                           "adoption_rate": None, "active_partners": 1,
                           "initiative_success_rate": 1.0, "churn_rate": 0.5, "csat": 3.0,
                           "active_installs": 1, "joint_initiatives": 2},
    "brand_collaboration": EMPTY,
    # B: i3 proposed 1 May, adopted 10 May, live in June (no revenue in May, fee not yet
    # owed: 0); i4 rejected 8 May; its initiative (ends 30 June) held. C: nothing in May
    "referral": {"partner_sourced_revenue": 0, "revenue_share_owed": 0, "introductions": 2,
                 "adoptions": 1, "rejections": 1, "adoption_rate": 0.5, "active_partners": 1,
                 "initiative_success_rate": None, "churn_rate": None, "csat": 5.0,
                 "active_installs": 0, "joint_initiatives": 1},
}


def grouped(running: Running, query: str) -> dict[str, Any]:
    answer = running.client.get(f"/v1/kpis?{query}", headers=running.headers(MANAGER))
    assert answer.status_code == 200, answer.text
    return answer.json()


def values(group: dict[str, Any]) -> dict[str, Any]:
    return {f["metric"]: f["value"] for f in group["figures"]}


def test_figures_per_type_follow_the_type_at_the_end_of_the_period(running: Running) -> None:
    typed_fixture(running)
    q2 = grouped(running, "group_by=partner_type&period=2026-Q2")
    assert q2["from"] == "2026-04-01" and q2["to"] == "2026-06-30" and q2["elapsed"] == 1.0
    assert {g["key"]: values(g) for g in q2["groups"]} == EXPECTED_Q2
    may = grouped(running, "group_by=partner_type&from=2026-05-01&to=2026-05-31")
    assert may["target_period"] == "2026-05"
    assert {g["key"]: values(g) for g in may["groups"]} == EXPECTED_MAY
    # a period with no target: figures, no progress
    assert all(g["progress"] == [] for g in q2["groups"] + may["groups"])


def test_each_type_lists_first_the_kpis_it_is_judged_on(running: Running) -> None:
    typed_fixture(running)
    body = grouped(running, "group_by=partner_type&period=2026-Q2")
    first = {g["key"]: [f["metric"] for f in g["figures"] if f["judged_on"]] for g in body["groups"]}
    assert first == {
        "reseller": ["partner_sourced_revenue", "adoptions"],
        "system_integration": ["adoptions", "active_installs", "churn_rate"],
        "brand_collaboration": ["joint_initiatives", "initiative_success_rate", "csat"],
        "referral": ["introductions", "adoptions"],
    }
    for group in body["groups"]:
        assert [f["metric"] for f in group["figures"]][:len(first[group["key"]])] == first[group["key"]]


def test_progress_against_the_targets_of_the_period(running: Running) -> None:
    ids = typed_fixture(running)
    targets = [
        {"period": "2026-Q2", "partner_type": "reseller", "metric": "partner_sourced_revenue",
         "target": 150_000},
        {"period": "2026-Q2", "partner_type": "reseller", "metric": "adoptions", "target": 2},
        {"period": "2026-Q2", "partner_type": "system_integration", "metric": "churn_rate",
         "target": 0.05},
        {"period": "2026-Q2", "partner_id": ids["A"], "metric": "introductions", "target": 1},
        {"period": "2026-05", "partner_type": "referral", "metric": "adoptions", "target": 1},
    ]
    saved = running.client.put("/v1/kpi-targets", json={"targets": targets},
                               headers=running.headers(MANAGER))
    assert saved.status_code == 200, saved.text
    body = grouped(running, "group_by=partner_type&period=2026-Q2")
    progress = {g["key"]: [(p["metric"], p["value"], p["target"], p["ratio"], p["status"])
                           for p in g["progress"]] for g in body["groups"]}
    assert progress == {
        # 200,000 of 150,000 (ratio 1.3333): met; 1 adoption of 2: missed (the quarter is over)
        "reseller": [("partner_sourced_revenue", 200_000, 150_000, 1.3333, "met"),
                     ("adoptions", 1, 2, 0.5, "missed")],
        # churn 0.5 against at most 0.05: missed
        "system_integration": [("churn_rate", 0.5, 0.05, 10.0, "missed")],
        "brand_collaboration": [], "referral": [],  # the May target is not the quarter's
    }
    by_partner = grouped(running, "group_by=partner&period=2026-Q2")
    a = next(g for g in by_partner["groups"] if g["key"] == ids["A"])
    assert a["partner_type"] == "system_integration" and a["name"] == "Teiki Subscriptions"
    assert [(p["metric"], p["value"], p["status"]) for p in a["progress"]] == [
        ("introductions", 1, "met")]
    assert values(a) == EXPECTED_Q2["system_integration"]
    b = next(g for g in by_partner["groups"] if g["key"] == ids["B"])
    assert b["partner_type"] == "reseller" and b["progress"] == []
    may = grouped(running, "group_by=partner_type&period=2026-05")
    referral = next(g for g in may["groups"] if g["key"] == "referral")
    assert [(p["metric"], p["value"], p["status"]) for p in referral["progress"]] == [
        ("adoptions", 1, "met")]


def test_grouped_kpis_are_for_managers_and_check_their_input(running: Running) -> None:
    for role in ("pm", "viewer"):
        refused = running.client.get("/v1/kpis?group_by=partner_type", headers=running.headers(role))
        assert refused.status_code == 403
    both = running.client.get("/v1/kpis?group_by=partner&period=2026-Q2&from=2026-04-01",
                              headers=running.headers(MANAGER))
    assert both.status_code == 400
    bad = running.client.get("/v1/kpis?group_by=vendor", headers=running.headers(MANAGER))
    assert bad.status_code == 422
    current = grouped(running, "group_by=partner_type")  # the current quarter by default
    assert current["target_period"] and "-Q" in current["target_period"]


def test_the_report_has_a_section_per_type_with_its_kpis_first_and_progress(
    running: Running,
) -> None:
    ids = typed_fixture(running)
    running.client.put("/v1/kpi-targets", headers=running.headers(MANAGER), json={"targets": [
        {"period": "2026-Q2", "partner_type": "reseller", "metric": "adoptions", "target": 2}]})
    glossary = running.app.state.matcher.engine.glossary
    with running.sessions() as session:
        data = build_report(session, parse_period("2026-Q2"), glossary, 0.034,
                            today=date(2026, 12, 1))
    japanese = render_markdown(data)
    sections = re.findall(r"^### (.+)$", japanese, re.M)
    assert sections == ["再販パートナー", "システム連携パートナー", "ブランドコラボ", "紹介パートナー"]
    reseller = japanese.split("### 再販パートナー")[1].split("### ")[0]
    assert reseller.index("★ 紹介経由の売上") < reseller.index("★ 採用数") < reseller.index("紹介数")
    assert "| ★ 紹介経由の売上 | ¥200,000 |" in reseller
    assert "| 採用数 | 以上 2 | 1 | 50% | 未達 |" in reseller
    assert "この期間の目標はありません。" in japanese.split("### 紹介パートナー")[1]
    english = render_markdown(replace(data, language="en"))
    assert "| Adoptions | at least 2 | 1 | 50% | missed |" in english
    assert "### System integrations" in english and "| ★ Active installs | 1 |" in english
    page = render_html(data)
    assert page.count('<section class="type"') == 4
    rows = list(csv.DictReader(io.StringIO(render_csv(data))))
    assert {"section": "target", "period": "2026-Q2", "partner": "reseller",
            "metric": "adoptions at_least 2.0", "value": "missed"} in rows
    assert "SECRET-REVSHARE" not in page and ids["A"] not in page


def test_the_console_kpis_page_shows_the_same_sections_with_progress(running: Running) -> None:
    typed_fixture(running)
    quarter = current_quarter(date.today())
    name = period_name(quarter)
    running.client.put("/v1/kpi-targets", headers=running.headers(MANAGER), json={"targets": [
        {"period": name, "partner_type": "referral", "metric": "introductions", "target": 3}]})
    sign_in(running.client, running.keys[MANAGER])
    page = running.client.get(f"/kpis?lang=en&to={quarter.end}").text
    assert page.count('<section class="type"') == 4
    referral = page.split('data-type="referral"')[1].split("</section>")[0]
    assert "Referral partners" in referral and "at least 3" in referral
    assert referral.index("★ Introductions") < referral.index("★ Adoptions")
    assert "No targets for this period." in page.split('data-type="reseller"')[1]
    japanese = running.client.get(f"/kpis?lang=ja&to={quarter.end}").text
    assert "紹介パートナー" in japanese and "以上 3" in japanese
