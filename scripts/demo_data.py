"""`partnermatch demo-data`: a year of plausible requests, feedback, introductions and joint
initiatives over the loaded (demo) catalog, so the KPIs, the gaps and the report have something
to show.

Deterministic (each request draws from its own seeded generator) and idempotent (ids derive from
the seed and the request's number: a second run finds them and adds nothing). It goes through the
real `recommend` and `record_feedback`, so requests, candidates and introductions agree. The
simulated partnership managers favour some partners (a hidden, seeded "appeal" per partner, lower
for partners not active): that is the pattern the adoption signal is meant to learn.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import Feedback, Initiative, Introduction, Partner, RecommendationRequest, utcnow
from scripts.runtime import cli_actor, open_runtime
from service.audit import audit
from service.auth.callers import Caller
from service.index.changes import catalog_changed
from service.index.matcher import Matcher
from service.introductions.lifecycle import move
from service.kpis.targets import current_quarter, period_name, upsert_targets
from service.kpis.terms import prefill
from service.recommendations.feedback import record_feedback
from service.recommendations.schemas import ClientInfo, RecommendationCreate
from service.recommendations.service import recommend

NAMESPACE = uuid.UUID("6f1d7a52-3c1e-4f7e-9a57-2b1c0d7e9a10")
PM = Caller(id="demo-data", name="demo data", role="pm")

NEEDS = [
    "定期購入を入れたい", "We want subscriptions with a skip-a-month option", "定期便の解約抑止をしたい",
    "コンビニ決済に対応したい", "Offer konbini payment and pay-later (atobarai) at checkout",
    "後払い決済を導入したい", "LINEで発送通知を送りたい", "Send order updates and coupons via LINE",
    "ポイントプログラムを始めたい", "A loyalty program with member ranks", "商品レビューを写真付きで集めたい",
    "Collect product reviews with photos", "配送日時指定をカートでできるようにしたい",
    "Let customers pick a delivery date and time slot", "ギフトラッピングとのしに対応したい",
    "Gift wrapping and message cards", "基幹システムと受注・在庫を連携したい",
    "Connect orders and inventory to our ERP", "倉庫管理システムと連携して出荷を自動化したい",
    "楽天・Amazonと在庫を同期したい", "Sync stock with Rakuten and Amazon", "BtoB卸売の掛け払いに対応したい",
    "Wholesale price lists for B2B buyers", "越境ECで多言語・多通貨対応したい",
    "Translate the store and show prices in local currency", "インボイス制度に対応した請求書を発行したい",
    "予約販売を受け付けたい", "Pre-orders for a product launch", "再入荷通知を送りたい",
    "カゴ落ちメールを送りたい", "Abandoned cart emails and SMS", "ライブコマースをやりたい",
    "Instagram shopping tags", "返品・交換を自動化したい", "Self-serve returns and exchanges",
    "チャットで問い合わせ対応したい", "売上分析のダッシュボードが欲しい", "Customer lifetime value analytics",
    "店舗とオンラインの在庫を統合したい", "Age verification for selling alcohol",
]
UNMET = [  # needs nobody in the catalog covers: the gaps the report should surface
    "ペットの健康相談サービスと連携したい", "Horoscope-based product recommendations",
    "宇宙旅行の予約を販売したい", "NFT membership passes for collectors",
    "ふるさと納税の返礼品として出品したい",
]
CLIENTS = [
    "Sakura Tea KK", "Hokkaido Dairy Farm", "Kyoto Incense Co.", "Tokyo Sneaker Lab",
    "Okinawa Salt Works", "Nagano Apple Orchard", "Shibuya Apparel", "Kobe Sweets",
    "Fukuoka Ramen Kits", "Kanazawa Gold Leaf", "Setouchi Citrus", "Sendai Craft Beer",
]
INITIATIVES = [
    ("event", "共催ウェビナー: {name}で始めるD2C"),
    ("co_promotion", "Co-promotion: year-end campaign with {name}"),
    ("co_selling", "Co-selling: {name} for Shopify Plus merchants"),
    ("referral_exchange", "送客連携: {name}との相互紹介"), ("event", "Meetup: Shopify x {name} in Osaka"),
    ("co_promotion", "新規導入キャンペーン ({name})"),
]
OWNERS = ["Tanaka", "Suzuki", "Kobayashi", "Watanabe", "Ito"]
# Each partner type's quarterly targets, on the KPIs it is judged on: (metric, target)
TARGETS: dict[str, list[tuple[str, float]]] = {
    "reseller": [("partner_sourced_revenue", 300_000), ("adoptions", 2)],
    "system_integration": [("adoptions", 3), ("active_installs", 4), ("churn_rate", 0.1)],
    "brand_collaboration": [("joint_initiatives", 2), ("initiative_success_rate", 0.5),
                            ("csat", 4.0)],
    "referral": [("introductions", 30), ("adoptions", 8)],
}


@dataclass
class Counts:
    requests: int = 0
    feedback: int = 0
    introductions: int = 0
    initiatives: int = 0
    skipped: int = 0
    touched: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "feedback": self.feedback,
                "introductions": self.introductions, "initiatives": self.initiatives,
                "already_there": self.skipped}


def fill_demo_data(
    session: Session, matcher: Matcher, today: date, seed: int = 7, requests: int = 160,
    initiatives: int = 16, gap_threshold: float = 0.034,
) -> Counts:
    """Add what is missing of the demo data for this seed; dates run over the year to `today`."""
    counts = Counts()
    partners = {p.id: p for p in session.scalars(select(Partner).where(Partner.status != "archived"))}
    if not partners:
        raise ValueError("the catalog is empty: import catalog/data/demo_catalog.yaml first")
    _structured_terms(partners.values())
    appeal = {pid: _appeal(p, seed) for pid, p in partners.items()}
    for number in range(requests):
        day = today - timedelta(days=round(364 * (1 - number / max(1, requests - 1))))
        _one_request(session, matcher, number, day, today, seed, appeal, gap_threshold, counts)
    _initiatives(session, sorted(partners.values(), key=lambda p: p.external_id), today, seed,
                 initiatives, counts)
    demo_targets(session, today, cli_actor())
    if counts.touched:  # the adoption signal changed for these: the index must re-read them
        for partner_id in counts.touched:
            partners[partner_id].updated_at = utcnow()
        catalog_changed(session, *counts.touched)
    audit(session, cli_actor(), "seed", "demo_data", str(seed), counts.as_dict())
    return counts


def demo_targets(session: Session, today: date, actor: str) -> None:
    """Targets for each partner type in the quarter of `today` and the one before (set once:
    a second run changes nothing)."""
    this = current_quarter(today)
    quarters = [this, current_quarter(this.start - timedelta(days=1))]
    upsert_targets(session, actor, [
        {"period": period_name(quarter), "partner_type": kind, "metric": metric,
         "direction": "at_most" if metric == "churn_rate" else "at_least", "target": target}
        for quarter in quarters for kind, targets in TARGETS.items() for metric, target in targets
    ])


def _structured_terms(partners: Iterable[Partner]) -> None:
    """Structured revenue-share terms for the demo partners whose text the prefill reads whole,
    as a manager confirming the prefill would save them; the others keep text only (no amount
    is owed on them until someone enters the fields)."""
    for partner in partners:
        read = prefill(partner.revenue_share_terms)
        if partner.revenue_share is None and read.terms.readable and not read.not_understood:
            partner.revenue_share = read.terms.to_stored()


def _appeal(partner: Partner, seed: int) -> float:
    """How likely the simulated client adopts this partner when proposed (hidden, seeded)."""
    value = 0.25 + 0.65 * random.Random(f"{seed}:appeal:{partner.external_id}").random()
    return value if partner.status == "active" else value * 0.5


def _one_request(
    session: Session, matcher: Matcher, number: int, day: date, today: date, seed: int,
    appeal: dict[str, float], gap_threshold: float, counts: Counts,
) -> None:
    request_id = str(uuid.uuid5(NAMESPACE, f"{seed}:request:{number}"))
    if session.get(RecommendationRequest, request_id) is not None:
        counts.skipped += 1
        return
    rng = random.Random(f"{seed}:request:{number}")
    unmet = rng.random() < 0.08
    query = rng.choice(UNMET if unmet else NEEDS)
    client = rng.choice(CLIENTS)
    body = RecommendationCreate(query=query, top_k=5, client=ClientInfo(name=client))
    answer = recommend(session, matcher, PM, body, channel="demo", request_id=request_id)
    record = session.get(RecommendationRequest, request_id)
    assert record is not None
    record.created_at = datetime.combine(day, time(9, 0), UTC) + timedelta(minutes=rng.randrange(540))
    counts.requests += 1
    shown = [c.partner.id for c in answer.candidates]
    if not shown:
        return
    if unmet or (record.top_score or 0) < gap_threshold:
        for partner_id in shown[:2]:
            _verdict(session, request_id, partner_id, "not_a_fit", client, day + timedelta(1), counts)
        return
    _proposals(session, rng, request_id, shown, client, day, today, appeal, counts)


def _proposals(
    session: Session, rng: random.Random, request_id: str, shown: list[str], client: str,
    day: date, today: date, appeal: dict[str, float], counts: Counts,
) -> None:
    """The PM proposes one or two of the shown partners; the client adopts at most one."""
    weights = [appeal[pid] / (rank + 1) ** 0.5 for rank, pid in enumerate(shown)]
    proposed: list[str] = []
    while len(proposed) < min(len(shown), 1 + (rng.random() < 0.6)):
        pick = rng.choices(shown, weights)[0]
        if pick not in proposed:
            proposed.append(pick)
    adopted = False
    for partner_id in proposed:
        intro = _verdict(session, request_id, partner_id, "proposed", client, day, counts)
        decided = day + timedelta(days=rng.randint(3, 21))
        if decided > today:
            continue  # still waiting for the client
        adopt = not adopted and rng.random() < appeal[partner_id]
        _verdict(session, request_id, partner_id, "adopted" if adopt else "not_a_fit", client,
                 decided, counts)
        if adopt:
            adopted = True
            _life(intro, rng, decided, today, appeal[partner_id], session)


def _verdict(
    session: Session, request_id: str, partner_id: str, verdict: str, client: str, day: date,
    counts: Counts,
) -> Introduction:
    before = session.scalar(select(Introduction.id).where(
        Introduction.request_id == request_id, Introduction.partner_id == partner_id))
    intro = record_feedback(session, PM, request_id, partner_id, verdict, client,
                            dedupe_key=f"demo:{request_id}:{partner_id}:{verdict}", on=day)
    counts.feedback += 1
    counts.introductions += before is None
    when = datetime.combine(day, time(18, 0), UTC)
    for row in session.scalars(select(Feedback).where(Feedback.introduction_id == intro.id,
                                                      Feedback.verdict == verdict)):
        row.created_at = when
    if verdict != "proposed":
        counts.touched.add(partner_id)
    return intro


def _life(
    intro: Introduction, rng: random.Random, adopted: date, today: date, appeal: float,
    session: Session,
) -> None:
    """After adoption: most go live; some churn later. Revenue by kind, satisfaction by appeal."""
    kind = session.get(Partner, intro.partner_id).kind  # type: ignore[union-attr]
    if kind in ("app", "platform"):
        intro.revenue_period = "monthly"
        intro.revenue = rng.randrange(3_000, 60_000 if kind == "app" else 300_000, 500)
    else:
        intro.revenue_period = "one_off"
        intro.revenue = rng.randrange(300_000, 3_000_000, 10_000)
    intro.satisfaction = max(1, min(5, round(1.5 + 3.5 * appeal + rng.uniform(-1, 1))))
    live = adopted + timedelta(days=rng.randint(5, 30))
    if live > today or rng.random() > 0.85:
        return
    move(intro, "live", on=live)
    churn = live + timedelta(days=rng.randint(45, 240))
    if churn <= today and rng.random() < 0.3 * (1.2 - appeal):
        move(intro, "churned", on=churn)


def _initiatives(
    session: Session, partners: list[Partner], today: date, seed: int, count: int, counts: Counts
) -> None:
    active = [p for p in partners if p.status == "active"]
    for number in range(min(count, len(active))):
        initiative_id = str(uuid.uuid5(NAMESPACE, f"{seed}:initiative:{number}"))
        if session.get(Initiative, initiative_id) is not None:
            continue
        rng = random.Random(f"{seed}:initiative:{number}")
        partner = rng.choice(active)
        kind, title = INITIATIVES[number % len(INITIATIVES)]
        start = today - timedelta(days=rng.randint(-30, 350))
        end = start + timedelta(days=rng.choice((0, 14, 30, 60)))
        session.add(Initiative(
            id=initiative_id, partner_id=partner.id, kind=kind, title=title.format(name=partner.name),
            owner=rng.choice(OWNERS), start_date=start, end_date=end,
            status=_initiative_status(rng, start, end, today),
            outcome=None if end >= today else rng.choice(
                ["申込 120件、新規導入 6社", "212 sign-ups, 9 new merchants", "Few leads; not repeated",
                 "集客は予定の半分", "3 joint deals closed"]),
        ))
        counts.initiatives += 1


def _initiative_status(rng: random.Random, start: date, end: date, today: date) -> str:
    if start > today:
        return "planned"
    if end >= today:
        return "running"
    return rng.choices(["succeeded", "failed", "cancelled"], [0.6, 0.3, 0.1])[0]


def demo_data(
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same data")] = 7,
    requests: Annotated[int, typer.Option(min=1, max=5000, help="Recommendation requests")] = 160,
    today: Annotated[str | None, typer.Option(help="Last day of the data (default: today)")] = None,
) -> None:
    """Fill the catalog with a year of demo requests, feedback, introductions and initiatives."""
    runtime = open_runtime()
    last = date.fromisoformat(today) if today else date.today()
    with runtime.transaction() as session:
        counts = fill_demo_data(session, runtime.matcher, last, seed, requests,
                                gap_threshold=runtime.settings.gap_threshold)
    typer.echo(json.dumps(counts.as_dict()))
