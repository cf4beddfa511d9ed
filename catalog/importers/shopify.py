"""Importer for the Shopify App Store data set (2020 export: apps, categories, benefits, plans).

The export has a known quirk: in pricing_plan_features.csv the column headed `app_id` holds the
pricing plan id and the one headed `pricing_plan_id` holds the app id. The reader checks the ids
against pricing_plans.csv to decide which column is which, so a corrected export reads too.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from catalog.importers.upsert import ImportFailed

SOURCE = "shopify-appstore"
FILES = {
    "apps": ("apps.csv", ["id", "title", "icon", "rating", "reviews_count", "tagline"]),
    "categories": ("categories.csv", ["id", "title"]),
    "apps_categories": ("apps_categories.csv", ["app_id", "category_id"]),
    "key_benefits": ("key_benefits.csv", ["app_id", "title", "description"]),
    "pricing_plans": ("pricing_plans.csv", ["id", "app_id", "title", "price"]),
    "pricing_plan_features": (
        "pricing_plan_features.csv", ["app_id", "pricing_plan_id", "feature"],
    ),
}
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")

Row = tuple[int, dict[str, str]]


def read_appstore(folder: Path) -> list[dict[str, Any]]:
    """Every app of the export as a partner record; raises ImportFailed naming file and line."""
    tables = {key: list(_read(folder, name, header)) for key, (name, header) in FILES.items()}
    problems: list[str] = []
    apps = _apps(tables["apps"], problems)
    categories = _categories(tables["categories"], problems)
    app_categories = _app_categories(tables["apps_categories"], apps, categories, problems)
    benefits = _benefits(tables["key_benefits"], apps, problems)
    plans = _plans(tables["pricing_plans"], tables["pricing_plan_features"], apps, problems)
    if problems:
        raise ImportFailed(problems)
    return [
        _record(app, app_categories[app_id], benefits[app_id], plans[app_id])
        for app_id, app in apps.items()
    ]


def _read(folder: Path, name: str, header: list[str]) -> Iterator[Row]:
    path = folder / name
    if not path.is_file():
        raise ImportFailed([f"{path}: file is missing"])
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            first = next(reader)
        except StopIteration:
            raise ImportFailed([f"{path}:1: file is empty"]) from None
        # Any column order is accepted: a corrected export may relabel the swapped columns.
        if sorted(first) != sorted(header):
            raise ImportFailed(
                [f"{path}:1: expected columns {','.join(header)}, got {','.join(first)}"]
            )
        start = reader.line_num + 1  # a quoted field may span lines: report where the row starts
        try:
            for row in reader:
                line, start = start, reader.line_num + 1
                if len(row) != len(first):
                    raise ImportFailed([
                        f"{path}:{line}: expected {len(first)} fields, got {len(row)}"
                        " (truncated or malformed row)"
                    ])
                yield line, dict(zip(first, row, strict=True))
        except csv.Error as error:
            raise ImportFailed([f"{path}:{start}: {error}"]) from None


def _where(table: str, line: int) -> str:
    return f"{FILES[table][0]}:{line}"


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _apps(rows: list[Row], problems: list[str]) -> dict[str, dict[str, Any]]:
    apps: dict[str, dict[str, Any]] = {}
    for line, row in rows:
        if not _is_uuid(row["id"]):
            problems.append(f"{_where('apps', line)}: bad app id {row['id']!r}")
            continue
        if row["id"] in apps:
            problems.append(f"{_where('apps', line)}: duplicate app id {row['id']}")
            continue
        if not row["title"].strip():
            problems.append(f"{_where('apps', line)}: empty title")
            continue
        try:
            rating = float(row["rating"]) if row["rating"] else None
            reviews = int(row["reviews_count"]) if row["reviews_count"] else None
        except ValueError:
            problems.append(f"{_where('apps', line)}: rating or reviews_count is not a number")
            continue
        if rating is not None and not 0 <= rating <= 5:
            problems.append(f"{_where('apps', line)}: rating {rating} out of 0-5")
            continue
        apps[row["id"]] = {**row, "rating": rating, "reviews_count": reviews}
    return apps


def _categories(rows: list[Row], problems: list[str]) -> dict[str, str]:
    categories = {}
    for line, row in rows:
        if not _HEX_ID.match(row["id"]):
            problems.append(f"{_where('categories', line)}: bad category id {row['id']!r}")
        categories[row["id"]] = row["title"]
    return categories


def _app_categories(
    rows: list[Row], apps: dict[str, Any], categories: dict[str, str], problems: list[str]
) -> defaultdict[str, list[str]]:
    result: defaultdict[str, list[str]] = defaultdict(list)
    for line, row in rows:
        if row["app_id"] not in apps:
            problems.append(f"{_where('apps_categories', line)}: unknown app id {row['app_id']!r}")
        elif row["category_id"] not in categories:
            problems.append(
                f"{_where('apps_categories', line)}: unknown category id {row['category_id']!r}"
            )
        else:
            result[row["app_id"]].append(categories[row["category_id"]])
    return result


def _benefits(
    rows: list[Row], apps: dict[str, Any], problems: list[str]
) -> defaultdict[str, list[dict[str, str]]]:
    result: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
    for line, row in rows:
        if row["app_id"] not in apps:
            problems.append(f"{_where('key_benefits', line)}: unknown app id {row['app_id']!r}")
        else:
            result[row["app_id"]].append({"title": row["title"], "description": row["description"]})
    return result


def _plans(
    plan_rows: list[Row], feature_rows: list[Row], apps: dict[str, Any], problems: list[str]
) -> defaultdict[str, list[dict[str, Any]]]:
    plans: dict[str, dict[str, Any]] = {}
    by_app: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for line, row in plan_rows:
        if not _is_uuid(row["id"]):
            problems.append(f"{_where('pricing_plans', line)}: bad plan id {row['id']!r}")
        elif row["app_id"] not in apps:
            problems.append(f"{_where('pricing_plans', line)}: unknown app id {row['app_id']!r}")
        else:
            plan: dict[str, Any] = {"title": row["title"], "price": row["price"], "features": []}
            plans[row["id"]] = plan
            by_app[row["app_id"]].append(plan)
    plan_column, app_column = _feature_columns(feature_rows, plans)
    for line, row in feature_rows:
        featured = plans.get(row[plan_column])
        if featured is None or row[app_column] not in apps:
            problems.append(
                f"{_where('pricing_plan_features', line)}: unknown plan {row[plan_column]!r}"
                f" or app {row[app_column]!r}"
            )
        else:
            featured["features"].append(row["feature"])
    return by_app


def _feature_columns(rows: list[Row], plans: dict[str, Any]) -> tuple[str, str]:
    """Which column holds the plan id: the export's headers are swapped (see module doc)."""
    swapped = sum(row["app_id"] in plans for _, row in rows)
    as_labelled = sum(row["pricing_plan_id"] in plans for _, row in rows)
    if swapped >= as_labelled:
        return "app_id", "pricing_plan_id"
    return "pricing_plan_id", "app_id"


def _pricing_summary(plans: list[dict[str, Any]]) -> str | None:
    prices = dict.fromkeys(plan["price"] for plan in plans if plan["price"])
    return "; ".join(prices) or None


def _record(
    app: dict[str, Any], categories: list[str], benefits: list[dict[str, str]],
    plans: list[dict[str, Any]],
) -> dict[str, Any]:
    tagline = app["tagline"].strip()
    japanese = bool(_JAPANESE.search(app["title"] + tagline))
    return {
        "external_id": app["id"],
        "name": app["title"].strip(),
        "vendor": None,
        "kind": "app",
        "description_en": "" if japanese else tagline,
        "description_ja": tagline if japanese else "",
        "capabilities": [],
        "categories": sorted(set(categories)),
        "platforms": ["Shopify"],
        "languages": ["ja"] if japanese else ["en"],
        "benefits": benefits,
        "pricing_plans": plans,
        "pricing_summary": _pricing_summary(plans),
        "rating": app["rating"],
        "review_count": app["reviews_count"],
        "url": None,
        "status": "prospect",
    }
