"""The partnership report: KPIs, top partners, coverage gaps and monthly trends, as HTML (with
PNG charts inline), Markdown or CSV. The revenue share owed stays out: reports get forwarded, and
the terms behind it are confidential."""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from models.glossary import Glossary
from service.kpis import gaps as gap_analysis
from service.kpis import metrics
from service.kpis.facts import load_facts
from service.kpis.groups import kpi_groups
from service.kpis.metrics import Period
from service.kpis.schemas import KpiGroups, KpiValues, TargetProgress
from service.kpis.targets import Progress

FORMATS = ("html", "md", "csv")
TOP_PARTNERS = 10
SHOWN = (  # (field, label); the order of every table
    ("partner_sourced_revenue", "Partner-sourced revenue"),
    ("introductions", "Introductions"),
    ("adoptions", "Adoptions"),
    ("adoption_rate", "Adoption rate"),
    ("active_partners", "Active partners"),
    ("initiative_success_rate", "Initiative success rate"),
    ("churn_rate", "Churn rate"),
    ("csat", "CSAT (1-5)"),
)
PARTNER_COLUMNS = [f for f in SHOWN if f[0] != "active_partners"]
# What each partner type's section shows (the revenue share owed stays out, as everywhere here)
TYPE_FIGURES = (*(name for name, _ in SHOWN), "active_installs", "joint_initiatives")
LANGUAGES = ("ja", "en")
# The report's words in Japanese (the default) and English; `SHOWN`'s labels are the English.
WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "partner_sourced_revenue": "紹介経由の売上", "introductions": "紹介数", "adoptions": "採用数",
        "adoption_rate": "採用率", "active_partners": "アクティブなパートナー",
        "initiative_success_rate": "共同施策の成功率", "churn_rate": "解約率", "csat": "満足度（1〜5）",
        "title": "パートナーシップ・レポート", "trends": "推移", "top": "上位パートナー",
        "partner": "パートナー", "month": "月", "by_month": "月別", "kpi": "指標", "value": "値",
        "gaps": "カバーできていない要望", "need": "要望", "requests": "件数", "why": "理由",
        "examples": "例", "definitions": "定義",
        "gaps_intro": "どのパートナーでも十分に満たせなかった要望（最良の関連度が {threshold} 未満、"
                      "またはすべての候補が見送り）を、内容ごとにまとめました。",
        "low_score": "関連度不足", "not_a_fit": "すべて見送り",
        "chart_revenue": "月別の紹介経由売上", "chart_pair": "月別の紹介数と採用数",
        "chart_rates": "月別の採用率と解約率", "chart_top": "期間の売上上位パートナー",
        "active_installs": "稼働中の導入数", "joint_initiatives": "共同施策の数",
        "by_type": "パートナー種別ごと", "reseller": "再販パートナー",
        "system_integration": "システム連携パートナー", "brand_collaboration": "ブランドコラボ",
        "referral": "紹介パートナー", "untyped": "種別なし", "judged_on": "評価指標",
        "target": "目標", "ratio": "達成率", "status": "状況", "no_targets": "この期間の目標はありません。",
        "on_track": "順調", "at_risk": "要注意", "missed": "未達", "met": "達成", "no_data": "データなし",
        "at_least": "以上", "at_most": "以下", "targets_of": "目標（{period}、経過 {elapsed}）",
    },
    "en": {
        **dict(SHOWN), "title": "Partnership report", "trends": "Trends", "top": "Top partners",
        "partner": "Partner", "month": "Month", "by_month": "By month", "kpi": "KPI",
        "value": "value", "gaps": "Coverage gaps", "need": "Need", "requests": "Requests",
        "why": "Why", "examples": "Examples", "definitions": "Definitions",
        "gaps_intro": "Requests no partner covers well (best relevance under {threshold}, or every "
                      "candidate marked not a fit), grouped by what they ask.",
        "low_score": "low relevance", "not_a_fit": "all not a fit",
        "chart_revenue": "Partner-sourced revenue by month",
        "chart_pair": "Introductions and adoptions by month",
        "chart_rates": "Adoption and churn rate by month",
        "chart_top": "Top partners by revenue in the period",
        "active_installs": "Active installs", "joint_initiatives": "Joint initiatives",
        "by_type": "By partner type", "reseller": "Resellers",
        "system_integration": "System integrations", "brand_collaboration": "Brand collaborations",
        "referral": "Referral partners", "untyped": "No type", "judged_on": "Judged on",
        "target": "Target", "ratio": "Ratio", "status": "Status",
        "no_targets": "No targets for this period.", "on_track": "on track",
        "at_risk": "at risk", "missed": "missed", "met": "met", "no_data": "no data",
        "at_least": "at least", "at_most": "at most",
        "targets_of": "Targets ({period}, {elapsed} elapsed)",
    },
}
DEFINITIONS_JA = {
    "partner_sourced_revenue": "紹介経由の売上（円）。一時金は、採用・稼働・解約のいずれかの紹介について、"
    "稼働日（なければ採用日）が期間内なら1回数えます。月額は、期間と稼働期間（稼働月から解約月まで）が"
    "重なる暦月ごとに数えます。",
    "introductions": "期間内に提案された紹介の数（その後どうなったかを問いません）。",
    "adoptions": "採用に至った紹介（現在、採用・稼働・解約のいずれか）のうち、採用日が期間内のもの。",
    "adoption_rate": "採用数 ÷（採用数 ＋ 見送り数）。提案中のものは未決として除きます。決定がなければ –。",
    "active_partners": "期間内に提案・採用・見送り・稼働・解約のあった紹介、または期間中に稼働していた紹介を"
    "持つパートナーの数。",
    "initiative_success_rate": "終了日が期間内の共同施策のうち、成功 ÷（成功 ＋ 失敗）。予定・実施中・中止は"
    "除きます。",
    "churn_rate": "期間内の解約数 ÷（期首に稼働中の数 ＋ 期間内に稼働した数）。",
    "csat": "期間内に動きのあった、または稼働していた紹介の満足度（1〜5）の平均。",
    "active_installs": "期間の最終日に稼働中（稼働済みで、その日までに解約していない）の紹介の数。",
    "joint_initiatives": "期間中に行われた共同施策（期末までに始まり、期首より前に終わっていないもの。"
    "中止は除きます）の数。",
}


def word(data: ReportData, key: str, **values: object) -> str:
    text = WORDS.get(data.language, WORDS["ja"])[key]
    return text.format(**values) if values else text


def definition(data: ReportData, name: str) -> str:
    """A KPI's definition in the report's language (the English from its function's docstring,
    its code names without backticks)."""
    if data.language == "ja":
        return DEFINITIONS_JA[name]
    return metrics.definitions()[name].replace("`", "")


@dataclass(frozen=True)
class ReportData:
    period: Period
    totals: KpiValues
    partners: list[tuple[str, KpiValues]]  # (name, KPIs), the top partners
    months: list[tuple[str, KpiValues]]  # ("2026-04", KPIs of that month within the period)
    gaps: list[dict[str, object]]
    threshold: float
    language: str = "ja"
    types: KpiGroups | None = None  # per partner type, with targets and progress


def build_report(
    session: Session, period: Period, glossary: Glossary, threshold: float,
    top: int = TOP_PARTNERS, language: str = "ja", today: date | None = None,
) -> ReportData:
    facts = load_facts(session)
    partners = list(metrics.per_partner(facts, period).items())[:top]
    groups = gap_analysis.group_gaps(
        gap_analysis.load_gaps(session, threshold, period.start, period.end), threshold, glossary
    )
    return ReportData(
        period=period,
        totals=metrics.compute(facts, period),
        partners=[(facts.names.get(pid, pid), values) for pid, values in partners],
        months=[(f"{m.start:%Y-%m}", metrics.compute(facts, m)) for m in period.months()],
        gaps=[gap_analysis.summary(g, examples=3) for g in groups if not g.vague][:15],
        threshold=threshold, language=language,
        types=kpi_groups(session, period, "partner_type", today or date.today()),
    )


def render(data: ReportData, fmt: str) -> str:
    renderers: dict[str, Callable[[ReportData], str]] = {
        "html": render_html, "md": render_markdown, "csv": render_csv,
    }
    if fmt not in renderers:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return renderers[fmt](data)


def shown(name: str, value: object) -> str:
    """A KPI value as people read it: yen with separators, rates in percent, "–" for none."""
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer() and name != "csat":
        value = int(value)  # a target is stored as a float: 300000.0 reads 300,000
    if name.endswith(("revenue", "_owed")):
        return f"¥{value:,}"
    if name.endswith("_rate"):
        return f"{float(value):.1%}"  # type: ignore[arg-type]
    if name == "csat":
        return f"{float(value):.2f}"  # type: ignore[arg-type]
    return f"{value:,}" if isinstance(value, int) else str(value)


# -- HTML ------------------------------------------------------------------------------------

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}
td.n{text-align:right}.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:1.5em}img{max-width:100%}"""


def render_html(data: ReportData) -> str:
    e = html.escape
    cards = "".join(
        f'<div class="card" title="{e(definition(data, name))}">{e(word(data, name))}'
        f'<b class="kpi" data-kpi="{name}">{e(shown(name, getattr(data.totals, name)))}</b></div>'
        for name, _ in SHOWN
    )
    charts = "".join(
        f'<figure><img alt="{e(title)}" src="data:image/png;base64,{png}"></figure>'
        for title, png in charts_png(data)
    )
    title = f"{word(data, 'title')} {data.period.start} – {data.period.end}"
    parts = [
        f"<!doctype html><html lang={data.language}><meta charset=utf-8><title>{e(title)}"
        f"</title><style>{STYLE}</style>",
        f"<h1>{e(title)}</h1>",
        f'<div class="cards">{cards}</div>', f"<h2>{e(word(data, 'trends'))}</h2>", charts,
        f"<h2>{e(word(data, 'top'))}</h2>", html_table(
            [word(data, "partner"), *(word(data, f) for f, _ in PARTNER_COLUMNS)],
            [[name, *(shown(f, getattr(v, f)) for f, _ in PARTNER_COLUMNS)]
             for name, v in data.partners]),
        *_type_sections_html(data),
        f"<h2>{e(word(data, 'gaps'))}</h2><p>{e(word(data, 'gaps_intro', threshold=data.threshold))}</p>",
        html_table([word(data, k) for k in ("need", "requests", "why", "examples")], _gap_rows(data)),
        f"<h2>{e(word(data, 'definitions'))}</h2><dl>" + "".join(
            f"<dt>{e(word(data, name))}</dt><dd>{e(definition(data, name))}</dd>" for name, _ in SHOWN
        ) + "</dl></html>",
    ]
    return "\n".join(parts)


@dataclass(frozen=True)
class TypeSection:
    key: str
    title: str
    figures: list[list[str]]  # [label, value]; the KPIs the type is judged on first, marked ★
    progress: list[list[str]]  # [KPI, target, value, ratio, status]


def type_sections(types: KpiGroups | None, language: str) -> list[TypeSection]:
    """Each partner type's section as the report and the console show it: its figures (the
    KPIs it is judged on first), then its progress against the period's targets."""
    w = WORDS.get(language, WORDS["ja"])
    sections = []
    for group in types.groups if types else []:
        figures = [[("★ " if f.judged_on else "") + w[f.metric], shown(f.metric, f.value)]
                   for f in group.figures if f.metric in TYPE_FIGURES]
        progress = [progress_row(p, w) for p in group.progress]
        sections.append(TypeSection(group.key, w[group.key], figures, progress))
    return sections


def progress_row(p: TargetProgress | Progress, w: dict[str, str]) -> list[str]:
    """KPI, target, value, ratio, status: one row of progress against a target."""
    return [w[p.metric], f"{w[p.direction]} {shown(p.metric, p.target)}", shown(p.metric, p.value),
            "–" if p.ratio is None else f"{p.ratio:.0%}", w[p.status]]


def type_words(types: KpiGroups, language: str) -> dict[str, str]:
    """The words around the sections: headings, the progress table's header, "no targets"."""
    w = WORDS.get(language, WORDS["ja"])
    return {
        "by_type": w["by_type"], "kpi": w["kpi"], "value": w["value"], "no_targets": w["no_targets"],
        "targets": w["targets_of"].format(period=types.target_period or "–",
                                          elapsed=f"{types.elapsed:.0%}"),
        "header": " | ".join(w[k] for k in ("kpi", "target", "value", "ratio", "status")),
    }


def _type_sections_html(data: ReportData) -> list[str]:
    if data.types is None:
        return []
    e, words = html.escape, type_words(data.types, data.language)
    parts = [f"<h2>{e(words['by_type'])}</h2>"]
    for section in type_sections(data.types, data.language):
        parts += [f'<section class="type" data-type="{e(section.key)}"><h3>{e(section.title)}</h3>',
                  html_table([words["kpi"], words["value"]], section.figures),
                  f"<h4>{e(words['targets'])}</h4>",
                  html_table(words["header"].split(" | "), section.progress) if section.progress
                  else f"<p>{e(words['no_targets'])}</p>", "</section>"]
    return parts


def html_table(header: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="n">{e(c)}</td>' if i else f"<td>{e(c)}</td>" for i, c in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _gap_rows(data: ReportData) -> list[list[str]]:
    return [
        [str(g["label"]), str(g["requests"]),
         ", ".join(f"{word(data, k)} {v}" for k, v in dict(g["reasons"]).items()),  # type: ignore[call-overload]
         " / ".join(g["queries"])]  # type: ignore[arg-type]
        for g in data.gaps
    ]


# -- charts ----------------------------------------------------------------------------------


def charts_png(data: ReportData) -> list[tuple[str, str]]:
    """(title, base64 PNG) for each chart. Object-oriented matplotlib: no pyplot, no GUI."""
    labels = [month for month, _ in data.months]
    values = [v for _, v in data.months]
    charts: list[tuple[str, Callable[[Any], object]]] = [
        (word(data, "chart_revenue"),
         lambda ax: _yen_bars(ax, labels, [v.partner_sourced_revenue for v in values])),
        (word(data, "chart_pair"), lambda ax: _pair(ax, labels, values, data)),
        (word(data, "chart_rates"), lambda ax: _rates(ax, labels, values, data)),
    ]
    if data.partners:
        names = [name[:28] for name, _ in reversed(data.partners)]
        revenue = [v.partner_sourced_revenue for _, v in reversed(data.partners)]
        charts.append((word(data, "chart_top"),
                       lambda ax: _yen_bars(ax, names, revenue, horizontal=True)))
    return [(title, _png(title, draw)) for title, draw in charts]


def _yen_bars(ax, labels: list[str], values: list[int], horizontal: bool = False) -> None:  # type: ignore[no-untyped-def]
    from matplotlib.ticker import FuncFormatter  # matplotlib loads with the first chart

    yen = FuncFormatter(lambda x, _: f"¥{x:,.0f}")
    if horizontal:
        ax.barh(labels, values, color="#2a9d8f")
        ax.xaxis.set_major_formatter(yen)
    else:
        ax.bar(labels, values, color="#3b7dd8")
        ax.yaxis.set_major_formatter(yen)
        ax.tick_params(axis="x", labelrotation=45)


def _pair(ax, labels: list[str], values: list[KpiValues], data: ReportData) -> None:  # type: ignore[no-untyped-def]
    ax.tick_params(axis="x", labelrotation=45)
    ax.plot(labels, [v.introductions for v in values], marker="o", label=word(data, "introductions"))
    ax.plot(labels, [v.adoptions for v in values], marker="o", label=word(data, "adoptions"))
    ax.legend()


def _rates(ax, labels: list[str], values: list[KpiValues], data: ReportData) -> None:  # type: ignore[no-untyped-def]
    for name in ("adoption_rate", "churn_rate"):
        series = [getattr(v, name) for v in values]
        ax.plot(labels, [float("nan") if s is None else s for s in series], marker="o",
                label=word(data, name))
    ax.set_ylim(0, 1)
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend()


CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic")


class MissingFont(RuntimeError):
    """No installed font draws Japanese: the charts would show partner names as boxes."""


def cjk_font() -> str:
    """The family of an installed font that draws Japanese (Noto Sans CJK first)."""
    from matplotlib import font_manager

    found = _known(font_manager)
    if found is None:  # installed after matplotlib cached its list of fonts: look again
        for path in font_manager.findSystemFonts():
            if any(part in Path(path).name for part in ("CJK", "NotoSansJP", "ipaexg", "ipag")):
                font_manager.fontManager.addfont(path)
        found = _known(font_manager)
    if found is None:
        raise MissingFont("the report's charts need a font with Japanese: install Debian's "
                          "fonts-noto-cjk (apt-get install fonts-noto-cjk) and run it again")
    return found


def _known(font_manager: Any) -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _png(title: str, draw: Callable[..., object]) -> str:
    from matplotlib import rc_context
    from matplotlib.figure import Figure  # half a second to import: not at every start

    with rc_context({"font.family": [cjk_font(), "DejaVu Sans"]}):  # glyph by glyph
        figure = Figure(figsize=(9, 3.6), dpi=100)
        ax = figure.subplots()
        draw(ax)
        ax.set_title(title)
        ax.tick_params(labelsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# -- Markdown and CSV ------------------------------------------------------------------------


def render_markdown(data: ReportData) -> str:
    w = lambda key: word(data, key)  # noqa: E731
    lines = [f"# {w('title')} {data.period.start} – {data.period.end}", "",
             f"| {w('kpi')} | {w('value')} |", "| --- | ---: |"]
    lines += [f"| {w(name)} | {shown(name, getattr(data.totals, name))} |" for name, _ in SHOWN]
    lines += ["", f"## {w('top')}", "",
              f"| {w('partner')} | " + " | ".join(w(f) for f, _ in PARTNER_COLUMNS) + " |",
              "| --- |" + " ---: |" * len(PARTNER_COLUMNS)]
    lines += [
        f"| {md_cell(name)} | " + " | ".join(shown(f, getattr(v, f)) for f, _ in PARTNER_COLUMNS)
        + " |" for name, v in data.partners
    ]
    lines += ["", f"## {w('by_month')}", "", f"| {w('month')} | " + " | ".join(w(f) for f, _ in SHOWN) + " |",
              "| --- |" + " ---: |" * len(SHOWN)]
    lines += [f"| {month} | " + " | ".join(shown(f, getattr(v, f)) for f, _ in SHOWN) + " |"
              for month, v in data.months]
    lines += _type_sections_markdown(data)
    lines += ["", f"## {w('gaps')}", "",
              f"| {w('need')} | {w('requests')} | {w('why')} | {w('examples')} |",
              "| --- | ---: | --- | --- |"]
    lines += [f"| {' | '.join(md_cell(c) for c in row)} |" for row in _gap_rows(data)]
    lines += ["", f"## {w('definitions')}", ""]
    lines += [f"- **{w(name)}**: {definition(data, name)}" for name, _ in SHOWN]
    return "\n".join(lines) + "\n"


def _type_sections_markdown(data: ReportData) -> list[str]:
    if data.types is None:
        return []
    words = type_words(data.types, data.language)
    lines = ["", f"## {words['by_type']}"]
    for section in type_sections(data.types, data.language):
        lines += ["", f"### {section.title}", "", f"| {words['kpi']} | {words['value']} |",
                  "| --- | ---: |"]
        lines += [f"| {' | '.join(md_cell(c) for c in row)} |" for row in section.figures]
        lines += ["", f"**{words['targets']}**", ""]
        if not section.progress:
            lines.append(words["no_targets"])
            continue
        lines += [f"| {words['header']} |", "| --- |" + " ---: |" * 4]
        lines += [f"| {' | '.join(md_cell(c) for c in row)} |" for row in section.progress]
    return lines


def md_cell(text: str) -> str:
    """Text as a Markdown table cell: no HTML (a viewer would render it), no cell break."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def render_csv(data: ReportData) -> str:
    """One tidy table: section, period, partner, metric, value (raw numbers, no formatting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "period", "partner", "metric", "value"])
    span = f"{data.period.start}/{data.period.end}"
    for name, _ in SHOWN:
        writer.writerow(["total", span, "", name, _raw(getattr(data.totals, name))])
    for partner, values in data.partners:
        for name, _ in PARTNER_COLUMNS:
            writer.writerow(["partner", span, _cell(partner), name, _raw(getattr(values, name))])
    for month, values in data.months:
        for name, _ in SHOWN:
            writer.writerow(["month", month, "", name, _raw(getattr(values, name))])
    for group in data.types.groups if data.types else []:
        for figure in group.figures:
            if figure.metric in TYPE_FIGURES:
                writer.writerow(["type", span, group.key, figure.metric, _raw(figure.value)])
        for p in group.progress:
            writer.writerow(["target", data.types.target_period, group.key,  # type: ignore[union-attr]
                             f"{p.metric} {p.direction} {p.target}", p.status])
    for gap in data.gaps:
        writer.writerow(["gap", span, "", _cell(str(gap["label"])), gap["requests"]])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (`=`, `+`, `-`, `@`, a tab or a
    carriage return first): it is kept, behind a quote."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _raw(value: object) -> str:
    return "" if value is None else str(value)


def default_out(fmt: str, period: Period) -> str:
    return f"partnership-report-{period.start}-{period.end}.{fmt}"
