"""Revenue-share terms: the structured fields amounts owed are computed from, and the reading of
free text (Japanese or English) that may prefill them, with what it did not understand."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class ShareTerms:
    """A partner's revenue-share terms, as entered (`partners.revenue_share`).

    percent: share of the revenue an introduction brings; months: for how many months from its
    go-live (None: without end); per_go_live: a fixed fee per introduction going live, paid once
    (`fee_period` one_off) or for every month it is live (monthly); cap: the most owed on one
    introduction over its life; currency: of the fee and the cap (the revenue is in yen).
    """

    percent: float | None = None
    months: int | None = None
    per_go_live: int | None = None
    fee_period: str = "one_off"
    cap: int | None = None
    currency: str = "JPY"

    @property
    def readable(self) -> bool:
        return self.percent is not None or self.per_go_live is not None

    @classmethod
    def stored(cls, values: dict[str, Any] | None) -> ShareTerms:
        """The terms a partner's `revenue_share` column holds (none: no terms)."""
        return cls(**{k: v for k, v in (values or {}).items() if k in cls.__dataclass_fields__})

    def to_stored(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Prefill:
    """What free text says about the terms: fields to show back for confirmation, and the parts
    of the text that were not understood (each one a warning: never a silent partial read)."""

    terms: ShareTerms
    not_understood: list[str] = field(default_factory=list)


# Bounded, and anchored at the start of a number: linear in the text's length. Unbounded, a long
# run of digits made every position a new attempt to the end of the run (20,000 digits: 15 s).
_NUMBER = r"(?<![\d.,])(\d{1,3}(?:,\d{3}){1,4}|\d{1,12})(?![\d,])"
_PERCENT = re.compile(r"(?<![\d.])(\d{1,6}(?:\.\d{1,4})?)\s{0,3}(?:%|pct\b|percent\b)", re.I)
_MONTHS = re.compile(r"(?<!\d)(\d{1,3})\s{0,3}(?:ヶ月|ケ月|か月|カ月|箇月|months?\b)", re.I)
_YEAR_ONE = re.compile(r"初年度|first\s{1,3}year", re.I)
_MONEY = re.compile(r"(?:¥|JPY)\s{0,3}" + _NUMBER + "|" + _NUMBER + r"\s{0,3}(?:円|yen\b|JPY\b)",
                    re.I)
_PER = re.compile(r"(?:per\b|につき|あたり|当たり|/|each\b|毎)", re.I)
_MONTHLY = re.compile(r"月額|毎月|monthly|per\s{1,3}month|/\s{0,3}月|/\s{0,3}month", re.I)
_CAP = re.compile(r"上限|cap(?:ped)?\b|max(?:imum)?\b|まで", re.I)
_CLAUSES = re.compile(r"[、,;；。\n]|(?:\s(?:and|plus)\s)|＋|\+")
_MAN = re.compile(r"(?<!\d)(\d{1,8})万")  # 50万円: 500,000 yen
_FILLER = re.compile(r"^[\s（）()・:：]*$")


@lru_cache(maxsize=4096)  # the same terms are read for each of a partner's introductions
def parse_terms(text: str | None) -> ShareTerms:
    """The terms free text prefills (see `prefill`)."""
    return prefill(text).terms


def prefill(text: str | None) -> Prefill:
    """Read "初年度売上の15%（12ヶ月）、稼働1件につき¥30,000" or "15% of first-year revenue,
    ¥30,000 per go-live, capped at ¥500,000" into fields, clause by clause (a clause is what
    lies between 、 , ; 。 "and" "plus"); a clause no field was read from is not understood."""
    values: dict[str, Any] = {}
    missed: list[str] = []
    text = _MAN.sub(lambda m: str(int(m.group(1)) * 10_000), unicodedata.normalize("NFKC", text or ""))
    for clause in _clauses(text):
        found: dict[str, Any] = {}
        # a clause saying nothing readable, or the contrary of an earlier one, is not understood
        if not _read_clause(clause, found) or any(values.get(k, v) != v for k, v in found.items()):
            missed.append(clause)
        else:
            values.update(found)
    return Prefill(ShareTerms(**values), missed)


def _clauses(text: str) -> list[str]:
    # a thousands separator is no clause boundary: "30,000" stays whole
    protected = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "\0", text)
    parts = (p.replace("\0", ",").strip() for p in _CLAUSES.split(protected))
    return [p for p in parts if p and not _FILLER.match(p)]


def _read_clause(clause: str, values: dict[str, Any]) -> bool:
    understood = False
    percent = _PERCENT.search(clause)
    rest = _PERCENT.sub(" ", clause) if percent else clause
    if percent and float(percent.group(1)) <= 100:
        values["percent"], understood = float(percent.group(1)), True
    months = _MONTHS.search(rest)
    if months and 1 <= int(months.group(1)) <= 600:
        values["months"], understood = int(months.group(1)), True
        rest = _MONTHS.sub(" ", rest)
    elif _YEAR_ONE.search(rest):
        values["months"], understood = 12, True
    money = _MONEY.search(rest)
    if money:
        amount = int((money.group(1) or money.group(2)).replace(",", ""))
        if _CAP.search(rest):
            values["cap"], understood = amount, True
        elif _PER.search(rest) or _MONTHLY.search(rest):
            values["per_go_live"], understood = amount, True
            if _MONTHLY.search(rest):
                values["fee_period"] = "monthly"
    return understood
