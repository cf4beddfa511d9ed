"""The partner review: the one page a partnership manager brings to a quarterly meeting with one
partner. Introductions and their outcomes, sourced revenue and the amounts owed, joint
initiatives, satisfaction, the latest notes and where the partner stands against its targets.

Everything is read for that partner only: its own introductions, initiatives, notes and
targets, and figures computed from its facts alone. It is written for a partner manager (the
`partnermatch` command runs as one): confidential notes are in it, marked so.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import Initiative, Introduction, NegotiationNote, Partner
from service.kpis import metrics, targets
from service.kpis.facts import intro_facts, load_facts
from service.kpis.groups import figures, ordered, types_on
from service.kpis.report import WORDS, html_table, md_cell, progress_row, shown
from service.records import get_or_404

LATEST_NOTES = 5
REVIEW_FIGURES = ("partner_sourced_revenue", "revenue_share_owed", "introductions", "adoptions",
                  "rejections", "adoption_rate", "active_installs", "churn_rate",
                  "joint_initiatives", "initiative_success_rate", "csat")
REVIEW_WORDS: dict[str, dict[str, str]] = {
    "ja": {"review_title": "パートナーレビュー", "figures": "実績", "intros": "紹介とその結果",
           "initiatives": "共同施策", "notes": "最新のメモ", "targets": "目標に対する状況",
           "revenue_share_owed": "レベニューシェア支払額", "rejections": "見送り数",
           "type": "種別", "client": "クライアント", "request": "要望", "status": "状況",
           "proposed": "提案", "adopted": "採用", "live": "稼働", "churned": "解約",
           "rejected": "見送り", "revenue": "売上", "title": "施策", "kind": "種類",
           "dates": "期間", "outcome": "結果", "date": "日付", "body": "内容",
           "confidential": "（社外秘）", "none": "なし", "no_targets": "この期間の目標はありません。",
           "planned": "予定", "running": "実施中", "succeeded": "成功", "failed": "失敗",
           "cancelled": "中止", "monthly": "/月", "one_off": "",
           "meeting": "打ち合わせ", "proposal": "提案", "contract": "契約", "issue": "課題",
           "review": "振り返り", "positive": "前向き", "neutral": "中立", "negative": "否定的",
           "pending": "保留", "event": "イベント", "co_promotion": "共同プロモーション",
           "co_selling": "共同販売", "referral_exchange": "相互紹介"},
    "en": {"review_title": "Partner review", "figures": "Figures", "intros": "Introductions and outcomes",
           "initiatives": "Joint initiatives", "notes": "Latest notes",
           "targets": "Against its targets", "revenue_share_owed": "Revenue share owed",
           "rejections": "Rejections", "type": "Type", "client": "Client", "request": "Request",
           "status": "Status", "proposed": "proposed", "adopted": "adopted", "live": "live",
           "churned": "churned", "rejected": "not a fit", "revenue": "Revenue",
           "title": "Initiative", "kind": "Kind", "dates": "Dates", "outcome": "Outcome",
           "date": "Date", "body": "Note", "confidential": " (confidential)", "none": "none",
           "no_targets": "No targets for this period.", "planned": "planned",
           "running": "running", "succeeded": "succeeded", "failed": "failed",
           "cancelled": "cancelled", "monthly": "/month", "one_off": "",
           "meeting": "meeting", "proposal": "proposal", "contract": "contract",
           "issue": "issue", "review": "review", "positive": "positive", "neutral": "neutral",
           "negative": "negative", "pending": "pending", "event": "event",
           "co_promotion": "co-promotion", "co_selling": "co-selling",
           "referral_exchange": "referral exchange"},
}


@dataclass(frozen=True)
class Table:
    heading: str
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Review:
    title: str
    subtitle: str
    tables: list[Table]
    empty: str  # what an empty table says


def build_review(session: Session, partner_id: str, period: metrics.Period, today: date,
                 language: str = "ja") -> Review:
    """The review of one partner for the period (the KPIs its type is judged on first)."""
    partner = get_or_404(session, Partner, partner_id)
    w = {**WORDS[language], **REVIEW_WORDS[language]}
    facts = load_facts(session, partner_id)
    values = figures(facts, period)
    kind = types_on(session, [partner_id], min(period.end, today))[partner_id]
    name = targets.period_name(period)
    mine = targets.list_targets(session, name, partner_id=partner_id) if name else []
    elapsed = targets.elapsed_share(period, today)
    progress = [targets.progress(t.metric, t.direction, t.target, values.get(t.metric), elapsed)
                for t in mine]
    figure_rows = [[("★ " if f.judged_on else "") + w[f.metric], shown(f.metric, f.value)]
                   for f in ordered(values, kind) if f.metric in REVIEW_FIGURES]
    return Review(
        title=f"{w['review_title']}: {partner.name}",
        subtitle=f"{period.start} – {period.end} · {w['type']}: {w.get(kind or 'untyped')}",
        tables=[
            Table(w["figures"], [w["kpi"], w["value"]], figure_rows),
            Table(w["intros"], [w[k] for k in ("client", "request", "status", "dates", "revenue")],
                  _introductions(session, partner_id, period, w)),
            Table(w["initiatives"], [w[k] for k in ("title", "kind", "status", "dates", "outcome")],
                  _initiatives(session, partner_id, period, w)),
            Table(w["notes"], [w[k] for k in ("date", "kind", "outcome", "body")],
                  _notes(session, partner_id, w)),
            Table(f"{w['targets']} ({name or '–'}, {elapsed:.0%})",
                  [w[k] for k in ("kpi", "target", "value", "ratio", "status")],
                  [progress_row(p, w) for p in progress]),
        ],
        empty=w["none"],
    )


def _introductions(session: Session, partner_id: str, period: metrics.Period,
                   w: dict[str, str]) -> list[list[str]]:
    rows = session.scalars(select(Introduction).where(Introduction.partner_id == partner_id)
                           .order_by(Introduction.proposed_on, Introduction.id))
    shown_rows = []
    for row in rows:
        if not metrics.engaged(intro_facts(row), period):
            continue
        dates = " → ".join(f"{w[s]} {d}" for s, d in (
            ("proposed", row.proposed_on), ("adopted", row.adopted_on), ("live", row.live_on),
            ("churned", row.churned_on), ("rejected", row.rejected_on)) if d)
        revenue = f"{shown('revenue', row.revenue)}{w[row.revenue_period]}" if row.revenue else "–"
        shown_rows.append([row.client or "–", row.request_text[:80], w[row.status], dates, revenue])
    return shown_rows


def _initiatives(session: Session, partner_id: str, period: metrics.Period,
                 w: dict[str, str]) -> list[list[str]]:
    rows = session.scalars(select(Initiative).where(Initiative.partner_id == partner_id)
                           .order_by(Initiative.start_date, Initiative.id))
    return [
        [row.title, w[row.kind], w[row.status], f"{row.start_date or '…'} – {row.end_date or '…'}",
         (row.outcome or "")[:120]]
        for row in rows
        if metrics.joint_initiatives(
            [metrics.InitiativeFacts(row.partner_id, row.status, row.start_date, row.end_date)],
            period)
    ]


def _notes(session: Session, partner_id: str, w: dict[str, str]) -> list[list[str]]:
    rows = session.scalars(
        select(NegotiationNote)
        .where(NegotiationNote.partner_id == partner_id, NegotiationNote.deleted_at.is_(None))
        .order_by(NegotiationNote.date.desc(), NegotiationNote.id).limit(LATEST_NOTES)
    )
    return [[str(row.date), w[row.kind], w[row.outcome] if row.outcome else "–",
             row.body[:200] + (w["confidential"] if row.confidential else "")] for row in rows]


def render_review(review: Review, fmt: str) -> str:
    """The review as Markdown ("md") or a standalone HTML page ("html")."""
    if fmt == "md":
        lines = [f"# {review.title}", "", review.subtitle]
        for table in review.tables:
            lines += ["", f"## {table.heading}", ""]
            if not table.rows:
                lines.append(review.empty)
                continue
            lines += ["| " + " | ".join(table.header) + " |", "|" + " --- |" * len(table.header)]
            lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in table.rows]
        return "\n".join(lines) + "\n"
    e = html.escape
    body = "".join(
        f"<h2>{e(t.heading)}</h2>"
        + (html_table(t.header, t.rows) if t.rows else f"<p>{e(review.empty)}</p>")
        for t in review.tables
    )
    return (f"<!doctype html><meta charset=utf-8><title>{e(review.title)}</title>"
            f"<style>body{{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto}}"
            f"table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 6px}}"
            f"</style><h1>{e(review.title)}</h1><p>{e(review.subtitle)}</p>{body}")
