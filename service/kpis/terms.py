"""Revenue-share terms: what a partner's free-text terms say, as far as a number can be read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ShareTerms:
    """What a partner's revenue-share terms say, as far as a number can be read from them."""

    percent: float | None = None  # the first "N%" ("N pct", "N percent") in the terms
    per_go_live: int | None = None  # "¥N per ..." paid once per introduction that goes live

    @property
    def readable(self) -> bool:
        return self.percent is not None or self.per_go_live is not None


# Bounded, and anchored at the start of a number: linear in the text's length. Unbounded, a long
# run of digits made every position a new attempt to the end of the run (20,000 digits: 15 s).
_PERCENT = re.compile(r"(?<![\d.])(\d{1,6}(?:\.\d{1,4})?)\s{0,3}(?:%|％|pct\b|percent\b)",
                      re.IGNORECASE)
_PER = re.compile(r"[¥￥]\s{0,3}(\d[\d,]{0,14})(?![\d,])\s{0,3}(?:per|/)\b", re.IGNORECASE)


@lru_cache(maxsize=4096)  # the same terms are read for each of a partner's introductions
def parse_terms(text: str | None) -> ShareTerms:
    """Read "20% of fees ..." and "¥3,000 per merchant going live" from free-text terms."""
    if not text:
        return ShareTerms()
    percent, fixed = _PERCENT.search(text), _PER.search(text)
    return ShareTerms(
        percent=float(percent.group(1)) if percent else None,
        per_go_live=int(fixed.group(1).replace(",", "")) if fixed else None,
    )
