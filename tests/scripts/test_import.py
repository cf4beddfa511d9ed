"""`partnermatch import`: a file into the catalog in one transaction, the index brought up to
date, and the import audited (who, which files, what came of it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from catalog.db import session_factory
from catalog.tables import AuditEntry
from scripts.cli import app as cli
from service.index.matcher import Matcher
from service.settings import Settings

NOTES = """\
partner_external_id,external_id,date,kind,body
p-1,n-1,2026-04-01,meeting,Kick-off with the team.
"""
PARTNERS = """\
external_id,name,kind,status,description_en
p-1,Sakura Payments,app,active,Konbini payments for Shopify stores.
"""


def test_an_import_is_audited_with_its_files_and_counts(
    database: Engine, tmp_path: Path, matcher_factory: Callable[[Settings, Any], Matcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partners, notes = tmp_path / "partners.csv", tmp_path / "notes.csv"
    partners.write_text(PARTNERS, encoding="utf-8")
    notes.write_text(NOTES, encoding="utf-8")
    monkeypatch.setenv("PARTNERMATCH_DATABASE_URL", database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PARTNERMATCH_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr("scripts.runtime.Matcher", matcher_factory)  # the models loaded once
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:  # the CLI configures logging for its process; put the test's back afterwards
        done = CliRunner().invoke(cli, ["import", "csv", "--partners", str(partners),
                                        "--notes", str(notes), "--json"])
        again = CliRunner().invoke(cli, ["import", "csv", "--partners", str(partners)])
    finally:
        root.handlers[:], root.level = handlers, level
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["created"] == 1
    assert json.loads(done.stdout)["indexed_partners"] == 1
    # Without --json, one line a person reads
    assert again.stdout.splitlines()[-1].startswith(
        "imported csv: 0 created, 0 updated, 1 unchanged; the index holds 1 partner (")
    stats = CliRunner().invoke(cli, ["catalog", "stats", "--json"])
    assert json.loads(stats.stdout)["index"]["partners"] == 1  # beside the index, from another process
    assert json.loads(stats.stdout)["index"]["complete"] is True
    assert CliRunner().invoke(cli, ["catalog", "stats"]).stdout.splitlines()[-1].startswith(
        "index: 1 partner, every channel, generation ")
    with session_factory(database)() as session:
        row, _ = session.scalars(  # the second import (nothing changed) is audited too
            select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.id)).all()
    assert row.actor.startswith("cli") and row.entity_id == "csv"
    assert row.changes["files"] == [str(partners), str(notes)]
    assert (row.changes["created"], row.changes["notes_created"]) == (1, 1)
