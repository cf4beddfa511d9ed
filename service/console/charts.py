"""What the pages show numbers and text with: yen, highlighted evidence, and charts as inline SVG
drawn on the server (crisp on a phone, no script, no request)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

ROW = 28
LABEL = 130
WIDTH = 420  # narrow, so the labels stay legible when a phone scales the chart down


def yen(value: int | None) -> str:
    return "—" if value is None else f"¥{value:,}"


def bars(rows: list[tuple[str, int]]) -> Markup:
    """A horizontal bar per (label, yen), scaled to the largest; empty when there is nothing."""
    if not rows:
        return Markup("")
    top = max(value for _, value in rows) or 1
    span = WIDTH - LABEL - 90
    parts = [f'<svg viewBox="0 0 {WIDTH} {ROW * len(rows)}" role="img" class="chart" '
             f'aria-label="{escape(", ".join(f"{n}: {yen(v)}" for n, v in rows))}">']
    for i, (name, value) in enumerate(rows):
        y, length = i * ROW, max(1, round(span * value / top))
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + 18}" text-anchor="end">{escape(_short(name))}</text>'
            f'<rect x="{LABEL}" y="{y + 5}" width="{length}" height="{ROW - 10}" rx="2"/>'
            f'<text x="{LABEL + length + 6}" y="{y + 18}">{yen(value)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(name: str, most: int = 16) -> str:
    """A label that fits beside the bar; a cut one ends with an ellipsis (the table names it whole)."""
    return name if len(name) <= most else name[: most - 1] + "…"


def highlight(text: str, terms: list[str]) -> Markup:
    """The text, escaped, with each matched term marked (case-insensitive, longest first)."""
    pattern = "|".join(re.escape(t) for t in sorted({t for t in terms if t.strip()}, key=len, reverse=True))
    if not pattern:
        return escape(text)
    pieces = re.split(f"({pattern})", text, flags=re.IGNORECASE)
    return Markup("").join(Markup(f"<mark>{escape(p)}</mark>") if i % 2 else escape(p)
                           for i, p in enumerate(pieces))
