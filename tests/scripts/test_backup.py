"""Backup and restore: everything comes back (keys as hashes), the index is rebuilt, and the same
questions get the same candidates; a damaged file or a non-empty database is refused."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from catalog.backup import BackupError, backup, restore
from catalog.db import open_database, session_factory, upgrade
from catalog.generation import current_generation
from catalog.repository import active_partners
from catalog.tables import ApiKey, AuditEntry, Base
from models.engine.store import current_version
from scripts.cli import app as cli
from service.app import create_app
from service.index.matcher import Matcher
from service.settings import Settings
from tests.helpers.database import fresh_postgres_database
from tests.helpers.service import Running

QUERIES = ["定期購入を入れたい", "konbini payment", "product reviews", "在庫連携", "LINE通知",
           "translate the store", "gift wrapping"]


@pytest.fixture
def empty_database(running: Running, tmp_path: Path) -> Iterator[Engine]:
    """A second database on the same engine as `running`'s, at the current schema, empty."""
    kind = open_database(running.app.state.settings.database_url).dialect.name
    database: AbstractContextManager[str] = (
        fresh_postgres_database() if kind == "postgresql"
        else nullcontext(f"sqlite:///{tmp_path / 'restored.db'}")
    )
    with database as url:
        engine = open_database(url)
        upgrade(engine)
        yield engine
        engine.dispose()


def some_history(running: Running) -> None:
    """Notes, contacts, feedback and introductions, initiatives: every table gets rows."""
    manager, sub = running.headers("partner_manager"), running.ids["t-sub"]
    post = running.client.post
    post(f"/v1/partners/{sub}/notes", json={"kind": "meeting", "body": "Renewal talk 🍵"},
         headers=manager)
    post(f"/v1/partners/{sub}/contacts", json={"name": "佐藤", "email": "sato@example.jp"},
         headers=manager)
    asked = post("/v1/recommendations", json={"query": "subscriptions"}, headers=manager).json()
    for partner, verdict in ((sub, "adopted"), (running.ids["t-konbini"], "not_a_fit")):
        answer = post(f"/v1/recommendations/{asked['request_id']}/feedback",
                      json={"partner_id": partner, "verdict": verdict}, headers=manager)
        assert answer.status_code == 200, answer.text
    post("/v1/initiatives", json={"partner_id": sub, "kind": "event", "title": "Seminar"},
         headers=manager)
    running.client.delete(f"/v1/partners/{running.ids['t-loyalty']}", headers=manager)


def candidates(client: TestClient, key: str) -> list[list[str]]:
    answers = [client.post("/v1/recommendations", json={"query": q, "top_k": 8},
                           headers={"Authorization": f"Bearer {key}"}) for q in QUERIES]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [[c["partner"]["id"] for c in a.json()["candidates"]] for a in answers]


def table_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    rows = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name != "catalog_state":  # its generation moves on at a restore
                query = select(table).order_by(*table.primary_key.columns)
                rows[table.name] = [dict(r) for r in connection.execute(query).mappings()]
    return rows


def test_restore_into_an_empty_database_gives_the_same_candidates(
    running: Running, empty_database: Engine, tmp_path: Path,
    matcher_factory: Callable[[Settings, Any], Matcher],
) -> None:
    some_history(running)
    running.app.state.matcher.rebuild()  # compare full builds: the restored index is one
    before = candidates(running.client, running.keys["viewer"])
    source = open_database(running.app.state.settings.database_url)
    file = tmp_path / "partnermatch.backup.jsonl"
    report = backup(source, file)
    assert report.rows["partners"] == 8 and report.rows["api_keys"] == 4
    assert report.rows["introductions"] == 2 and report.rows["feedback"] == 2
    assert all(report.rows[name] for name in ("negotiation_notes", "contacts", "audit_log",
                                              "recommendation_requests", "initiatives"))
    text = file.read_text(encoding="utf-8")
    assert not any(key in text for key in running.keys.values())  # hashes only

    restored = restore(empty_database, file)
    assert restored.rows == report.rows
    assert table_rows(empty_database) == table_rows(source)
    with session_factory(empty_database)() as session:
        assert current_generation(session) > 0

    url = empty_database.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, index_dir=tmp_path / "restored-index")
    with TestClient(create_app(settings, matcher_factory)) as client:
        # the same keys work (their hashes came back), and the same questions get the same answers
        assert candidates(client, running.keys["viewer"]) == before
        with session_factory(empty_database)() as session:
            active = {p.id for p in active_partners(session)}
        assert set(client.app.state.matcher.engine._documents) == active  # type: ignore[attr-defined]
    source.dispose()


def test_refuses_a_non_empty_database_and_damaged_files(
    running: Running, empty_database: Engine, tmp_path: Path
) -> None:
    source = open_database(running.app.state.settings.database_url)
    file = tmp_path / "b.jsonl"
    backup(source, file)
    with pytest.raises(BackupError, match="not empty"):
        restore(source, file)
    lines = file.read_text(encoding="utf-8").splitlines()
    damaged = {
        "cut.jsonl": "\n".join(lines[:-1]),  # no end line
        "row-lost.jsonl": "\n".join(lines[:3] + lines[4:]),  # counts disagree
        "version.jsonl": "\n".join([lines[0].replace('"version":1', '"version":99'), *lines[1:]]),
        "garbage.jsonl": "not json at all",
        "empty.jsonl": "",
    }
    for name, content in damaged.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(BackupError):
            restore(empty_database, tmp_path / name)
    with session_factory(empty_database)() as session:  # nothing was written by the refusals
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 0
    kept = table_rows(source)
    restore(source, file, force=True)  # forced over the same rows: unchanged, no key clash
    assert table_rows(source) == kept
    with session_factory(source)() as session:  # the audit id sequence continues after restore
        session.add(AuditEntry(actor="t", action="x", entity="y", entity_id="z", changes={}))
        session.commit()
    source.dispose()


def test_a_forced_restore_keeps_the_trail_and_the_revocations(
    running: Running, tmp_path: Path
) -> None:
    source = open_database(running.app.state.settings.database_url)
    file = tmp_path / "before.jsonl"
    backup(source, file)
    with session_factory(source)() as session:
        session.add(AuditEntry(actor="after", action="x", entity="y", entity_id="z", changes={}))
        pm_key = session.scalars(select(ApiKey).where(ApiKey.role == "pm")).one()
        pm_key.revoked_at = datetime.now(UTC)
        session.commit()
    restore(source, file, force=True)
    with session_factory(source)() as session:
        trail = [row.actor for row in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        revoked = session.scalars(select(ApiKey).where(ApiKey.role == "pm")).one().revoked_at
    assert "after" in trail  # written after the backup, kept
    assert revoked is not None  # revoked after the backup, still revoked
    restore(source, file, force=True, revive_keys=True)
    with session_factory(source)() as session:
        assert session.scalars(select(ApiKey).where(ApiKey.role == "pm")).one().revoked_at is None
    source.dispose()


def test_a_file_of_another_schema_revision_is_refused(
    running: Running, empty_database: Engine, tmp_path: Path
) -> None:
    source = open_database(running.app.state.settings.database_url)
    file = tmp_path / "b.jsonl"
    backup(source, file)
    source.dispose()
    lines = file.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    older = tmp_path / "older.jsonl"
    older.write_text("\n".join([json.dumps({**header, "revision": "0000_older"}), *lines[1:]]),
                     encoding="utf-8")
    with pytest.raises(BackupError, match="schema revision '0000_older'"):
        restore(empty_database, older)


def test_the_commands_back_up_and_restore(
    running: Running, empty_database: Engine, tmp_path: Path,
    matcher_factory: Callable[[Settings, Any], Matcher], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`partnermatch backup FILE` and `partnermatch restore FILE [--force]`."""
    file = tmp_path / "cli.jsonl"
    settings = running.app.state.settings
    monkeypatch.setenv("PARTNERMATCH_INDEX_DIR", str(tmp_path / "cli-index"))
    monkeypatch.setattr("scripts.backup.Matcher", matcher_factory)  # the models loaded once
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        monkeypatch.setenv("PARTNERMATCH_DATABASE_URL", settings.database_url)
        made = CliRunner().invoke(cli, ["backup", str(file)])
        assert made.exit_code == 0, made.output
        assert json.loads(made.stdout)["rows"]["partners"] == 8
        monkeypatch.setenv("PARTNERMATCH_DATABASE_URL",
                           empty_database.url.render_as_string(hide_password=False))
        done = CliRunner().invoke(cli, ["restore", str(file)])
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["indexed_partners"] == 8
        again = CliRunner().invoke(cli, ["restore", str(file)])
        assert again.exit_code == 2 and "not empty" in again.output
        forced = CliRunner().invoke(cli, ["restore", str(file), "--force"])
        assert forced.exit_code == 0, forced.output
    finally:
        root.handlers[:], root.level = handlers, level
    with session_factory(empty_database)() as session:
        restores = session.scalars(select(AuditEntry).where(AuditEntry.action == "restore")).all()
    # both restores are in the trail: a forced restore keeps the database's trail
    assert [r.actor[:3] for r in restores] == ["cli", "cli"]
    with session_factory(empty_database)() as session:
        assert current_version(tmp_path / "cli-index").generation == current_generation(session)
