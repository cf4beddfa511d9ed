"""Input as people in Japan type it, and what to say when it can't be read.

Amounts of yen and dates arrive full-width (５００００, ２０２６－１２－０１), with separators
(50,000, ５０，０００円, ¥50,000) or in Japanese (2026年12月1日, 2026/12/01): all are read, after NFKC
normalisation. What cannot be read is refused with the form expected, in the caller's language
(`Accept-Language`: Japanese, else English).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_YEN = re.compile(r"^[¥￥]?\s*(\d{1,3}(?:,\d{3})+|\d+)\s*(?:円|yen|JPY)?$", re.IGNORECASE)
_DAY = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?$")

# What each refusal of ours, and pydantic's own for dates and numbers, asks for, per language.
EXPECTED = {
    "yen": {"ja": "金額は 50000、50,000、５０，０００円 のように数字で入力してください",
            "en": "an amount of yen as digits, e.g. 50000 or 50,000"},
    "day": {"ja": "YYYY-MM-DD で入力してください（2026/12/01、2026年12月1日 も可）",
            "en": "a date as YYYY-MM-DD (2026/12/01 is read too)"},
    "missing": {"ja": "入力してください", "en": "required"},
}
# pydantic's error types that mean one of the forms above
KINDS = {
    "yen_form": "yen", "day_form": "day", "date_parsing": "day", "date_from_datetime_parsing": "day",
    "date_type": "day", "date_from_datetime_inexact": "day", "missing": "missing",
}


def _yen(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    match = _YEN.match(unicodedata.normalize("NFKC", value).strip())
    if match is None:
        raise PydanticCustomError("yen_form", EXPECTED["yen"]["en"])
    return int(match.group(1).replace(",", ""))


def _day(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    match = _DAY.match(unicodedata.normalize("NFKC", value).strip())
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    raise PydanticCustomError("day_form", EXPECTED["day"]["en"])


YenInput = Annotated[int, BeforeValidator(_yen)]
DayInput = Annotated[date, BeforeValidator(_day)]


def language_of(accept_language: str | None) -> str:
    """"ja" when the caller's first language is Japanese, else "en"."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "ja" if first.startswith("ja") else "en"


def field_message(error: dict[str, Any], language: str) -> str:
    """What to tell the caller of one refused field, never echoing what they sent."""
    kind = KINDS.get(str(error.get("type")))
    if kind is not None:
        return EXPECTED[kind][language]
    return str(error.get("msg", "invalid"))
