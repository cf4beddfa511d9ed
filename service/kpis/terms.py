"""Revenue-share terms: what a partner's free-text terms say, as far as a number can be read."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ShareTerms:
    """What a partner's revenue-share terms say, as far as a number can be read from them."""

    percent: float | None = None  # the first "N%" ("N pct", "N percent") in the terms
    per_go_live: int | None = None  # "¥N per ..." paid once per introduction that goes live

    @property
    def readable(self) -> bool:
        return self.percent is not None or self.per_go_live is not None


_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|％|pct\b|percent\b)", re.IGNORECASE)
_PER = re.compile(r"[¥￥]\s*([\d,]+)\s*(?:per|/)\b", re.IGNORECASE)


def parse_terms(text: str | None) -> ShareTerms:
    """Read "20% of fees ..." and "¥3,000 per merchant going live" from free-text terms."""
    if not text:
        return ShareTerms()
    percent, fixed = _PERCENT.search(text), _PER.search(text)
    return ShareTerms(
        percent=float(percent.group(1)) if percent else None,
        per_go_live=int(fixed.group(1).replace(",", "")) if fixed else None,
    )
