"""`partnermatch evaluate` on data-set folders: a small Shopify export and a variant of it with one
listing in Japanese, each imported into a scratch catalog of its own (real models)."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scripts.cli import app as cli

pytestmark = pytest.mark.slow

APPS = {  # app id -> (title, tagline, key benefit)
    "gift": ("Gift Card Studio", "Sell digital gift cards and store credit.", "Gift cards by email"),
    "sub": ("Recurring Orders", "Subscriptions with automatic monthly deliveries.", "Subscribe and save"),
    "map": ("Store Locator Map", "Show your physical shops on a map.", "Find a store near you"),
    "seo": ("SEO Booster", "Improve search rankings with meta tags.", "Fix broken links"),
    "faq": ("FAQ Page", "Answer common questions on a help page.", "Accordion FAQ"),
}
JAPANESE_SUB = ("定期購入", "毎月自動でお届けする定期便と定期購入を販売できます。", "定期購入でお得に")


def app_id(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def write_export(folder: Path, apps: dict[str, tuple[str, str, str]]) -> Path:
    folder.mkdir()
    tables = {
        "apps.csv": (["id", "title", "icon", "rating", "reviews_count", "tagline"],
                     [[app_id(k), t, "", "4.5", "10", tagline] for k, (t, tagline, _) in apps.items()]),
        "categories.csv": (["id", "title"], [["0" * 32, "Sales"]]),
        "apps_categories.csv": (["app_id", "category_id"], [[app_id(k), "0" * 32] for k in apps]),
        "key_benefits.csv": (["app_id", "title", "description"],
                             [[app_id(k), benefit, ""] for k, (_, _, benefit) in apps.items()]),
        "pricing_plans.csv": (["id", "app_id", "title", "price"], []),
        "pricing_plan_features.csv": (["app_id", "pricing_plan_id", "feature"], []),
    }
    for name, (header, rows) in tables.items():
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])
    return folder


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")
    return path


def test_evaluate_a_data_set_beside_its_variant_and_pm_wordings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.setenv("PARTNERMATCH_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("PARTNERMATCH_EMBEDDING_BACKEND", "torch")
    original = write_export(tmp_path / "original", APPS)
    variant = write_export(tmp_path / "variant", {**APPS, "sub": JAPANESE_SUB})
    intents = write_jsonl(tmp_path / "intents.jsonl", [
        {"id": "I1", "en": "customers subscribe to monthly deliveries", "ja": "定期購入を始めたい"},
        {"id": "I2", "en": "sell gift cards", "ja": "ギフトカードを販売したい"},
    ])
    qrels = write_jsonl(tmp_path / "qrels.jsonl", [
        {"intent": "I1", "app_id": app_id("sub"), "grade": 2},
        {"intent": "I2", "app_id": app_id("gift"), "grade": 2},
    ])
    pm = write_jsonl(tmp_path / "pm.jsonl", [
        {"id": "I1", "ja_talk": "定期便やりたいって", "ja_typo": "ていきこうにゅう", "en_talk": "subs app?"},
        {"id": "I2", "ja_talk": "ギフトカード売りたいって", "ja_typo": "ぎふとかーど",
         "en_talk": "gift cards?"},
    ])

    result = CliRunner().invoke(cli, [
        "evaluate", "--intents", str(intents), "--qrels", str(qrels), "--data", str(original),
        "--variant", str(variant), "--pm-intents", str(pm), "--json",
    ])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["catalog_partners"] == len(APPS) and report["variant_rewritten"] == 1
    assert report["full"]["en"]["recall@50"] == 1.0  # five listings: every one is a candidate
    assert set(report["full, variant"]["per_intent"]["ja"]) == {"I1", "I2"}
    assert set(report["full, pm styles"]) >= {"ja_talk", "ja_typo", "en_talk"}
    assert not (tmp_path / "unused.db").exists()  # the loaded catalog was never opened

    table = CliRunner().invoke(cli, [
        "evaluate", "--intents", str(intents), "--qrels", str(qrels), "--data", str(original),
        "--variant", str(variant),
    ])
    assert table.exit_code == 0, table.output
    variant_rows = [line for line in table.stdout.splitlines() if line.startswith("| full, variant |")]
    assert len(variant_rows) == 2 and all(row.rstrip(" |").split("|")[-1].strip() for row in variant_rows)
