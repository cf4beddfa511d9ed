"""Audit: every change to partners, notes, contacts, introductions, initiatives and keys leaves a
row saying who, when and which fields; the logs are JSON lines with request ids and never carry
a confidential note, revenue-share terms or an API key."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from catalog.db import open_database
from catalog.tables import AuditEntry
from scripts.cli import app as cli
from service.http.observability import JsonFormatter
from tests.helpers.service import CANARY, Running

NOTE_CANARY = "CANARY-note-9d41-secret-discount"
TERMS_CANARY = "CANARY-terms-27pct-first-year"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything the app logs while the test runs, formatted as the service formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def changes_everything(running: Running) -> dict[str, Any]:
    """One of every change the API makes, as a partner manager (and an admin for the index)."""
    manager = running.headers("partner_manager")
    ids: dict[str, Any] = {}

    def call(method: str, path: str, body: dict[str, Any] | None = None,
             headers: dict[str, str] = manager) -> Any:
        answer = running.client.request(method, path, json=body, headers=headers)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.status_code != 204 else None

    partner = call("POST", "/v1/partners", {"name": "Audit Gift Wrap", "kind": "app",
                                           "revenue_share_terms": TERMS_CANARY})
    ids["partner"] = partner["id"]
    call("PATCH", f"/v1/partners/{partner['id']}",
         {"status": "active", "revenue_share_terms": TERMS_CANARY + "-v2"})
    note = call("POST", f"/v1/partners/{partner['id']}/notes",
                {"kind": "contract", "body": NOTE_CANARY, "terms": TERMS_CANARY, "confidential": True})
    ids["note"] = note["id"]
    call("PATCH", f"/v1/notes/{note['id']}", {"body": NOTE_CANARY + " amended", "outcome": "positive"})
    call("DELETE", f"/v1/notes/{note['id']}")
    contact = call("POST", f"/v1/partners/{partner['id']}/contacts",
                   {"name": "Sato", "email": "sato@example.jp"})
    ids["contact"] = contact["id"]
    call("PATCH", f"/v1/contacts/{contact['id']}", {"role": "CEO"})
    call("DELETE", f"/v1/contacts/{contact['id']}")
    asked = call("POST", "/v1/recommendations", {"query": "gift wrapping"})
    feedback = call("POST", f"/v1/recommendations/{asked['request_id']}/feedback",
                    {"partner_id": partner["id"], "verdict": "adopted", "client": "Tea KK"})
    ids["introduction"] = feedback["introduction_id"]
    call("PATCH", f"/v1/introductions/{feedback['introduction_id']}",
         {"status": "live", "revenue": 120000})
    initiative = call("POST", "/v1/initiatives",
                      {"partner_id": partner["id"], "kind": "event", "title": "Gift seminar"})
    ids["initiative"] = initiative["id"]
    call("PATCH", f"/v1/initiatives/{initiative['id']}", {"status": "running"})
    call("DELETE", f"/v1/initiatives/{initiative['id']}")
    call("DELETE", f"/v1/partners/{partner['id']}")
    call("POST", "/v1/admin/reindex", headers=running.headers("admin"))
    return ids


def keys_through_the_cli(running: Running, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """`partnermatch keys create` and `keys revoke`, in process, on the test's database."""
    url = running.app.state.settings.database_url
    monkeypatch.setenv("PARTNERMATCH_DATABASE_URL", url)
    monkeypatch.setenv("PARTNERMATCH_INDEX_DIR", str(running.app.state.settings.index_dir))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:  # the CLI configures logging for its process; put the test's back afterwards
        created = CliRunner().invoke(cli, ["keys", "create", "--role", "pm", "--name", "audit-bot"])
        assert created.exit_code == 0, created.output
        key_id = created.output.split()[2]
        key = created.output.strip().splitlines()[-1]
        revoked = CliRunner().invoke(cli, ["keys", "revoke", key_id])
        assert revoked.exit_code == 0, revoked.output
        listed = CliRunner().invoke(cli, ["keys", "list"]).output.splitlines()
        assert listed[0].split("\t") == ["id", "prefix", "role", "name", "state"]
        assert any(line.startswith(key_id) and "\tpm_" in line for line in listed[1:])
    finally:
        root.handlers[:], root.level = handlers, level
    return key_id, key


def test_every_change_leaves_an_audit_row(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    ids = changes_everything(running)
    key_id, key = keys_through_the_cli(running, monkeypatch)
    with running.sessions() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    trail = {(r.entity, r.entity_id, r.action): r for r in rows}
    expected = {
        ("partner", ids["partner"], "create"): {"name", "kind", "revenue_share_terms"},
        ("partner", ids["partner"], "update"): {"status", "revenue_share_terms"},
        ("partner", ids["partner"], "archive"): {"status"},
        ("note", ids["note"], "create"): {"body", "terms", "confidential", "kind"},
        ("note", ids["note"], "update"): {"body", "outcome"},
        ("note", ids["note"], "delete"): set(),
        ("contact", ids["contact"], "create"): {"name", "email"},
        ("contact", ids["contact"], "update"): {"role"},
        ("contact", ids["contact"], "delete"): set(),
        ("introduction", ids["introduction"], "feedback"): {"verdict", "partner_id"},
        ("introduction", ids["introduction"], "update"): {"status", "revenue"},
        ("initiative", ids["initiative"], "create"): {"title", "kind"},
        ("initiative", ids["initiative"], "update"): {"status"},
        ("initiative", ids["initiative"], "delete"): {"title"},
        ("index", "all", "reindex"): {"partners", "generation"},
        ("api_key", key_id, "create"): {"name", "role"},
        ("api_key", key_id, "revoke"): set(),
    }
    missing = [entry for entry in expected if entry not in trail]
    assert not missing, f"changes without an audit row: {missing}"
    for entry, fields in expected.items():
        row = trail[entry]
        assert fields <= set(row.changes), (entry, row.changes)
        assert row.actor, entry
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        assert started <= at <= datetime.now(UTC), (entry, row.at)
    api_rows = [r for e, r in trail.items() if e[0] not in ("api_key",)]
    assert all("test-partner_manager" in r.actor or "test-admin" in r.actor for r in api_rows)
    assert trail[("api_key", key_id, "create")].actor.startswith("cli")
    # what changed is there, except the confidential values
    assert trail[("partner", ids["partner"], "update")].changes["status"] == "active"
    stored = json.dumps([r.changes for r in rows], ensure_ascii=False)
    for secret in (NOTE_CANARY, TERMS_CANARY, "sato@example.jp", key):
        assert secret not in stored


def test_logs_are_json_lines_with_request_ids_and_no_secrets(
    running: Running, log_lines: io.StringIO
) -> None:
    changes_everything(running)
    sub = running.ids["t-sub"]
    manager = running.headers("partner_manager")
    running.client.get(f"/v1/partners/{sub}/notes", headers=manager)  # reads the CANARY note
    running.client.post("/v1/recommendations", json={"query": CANARY}, headers=manager)
    running.client.post("/v1/partners", json={"name": "Bad", "kind": "nope",
                                              "revenue_share_terms": TERMS_CANARY}, headers=manager)
    running.client.get("/v1/partners", headers={"Authorization": "Bearer pm_not-a-real-key-123"})
    lines = [line for line in log_lines.getvalue().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [e for e in entries if e["msg"] == "request"]
    audits = [e for e in entries if e["msg"] == "audit"]
    assert len(requests) >= 20 and len(audits) >= 15
    assert all(e["request_id"] for e in requests + audits)
    assert {"method", "route", "status", "ms"} <= set(requests[0])
    assert {"actor", "action", "entity", "entity_id", "fields"} <= set(audits[0])
    text = log_lines.getvalue()
    for secret in (CANARY, NOTE_CANARY, TERMS_CANARY, "SECRET-REVSHARE-20pct", "rev share 20%",
                   "pm_not-a-real-key-123", *running.keys.values()):
        assert secret not in text, f"a secret reached the logs: {secret[:12]}…"


def test_database_errors_are_logged_without_values(running: Running) -> None:
    """A failing statement's log line names the error, its SQLSTATE and the SQL, never a value:
    parameters are hidden by the engine, and PostgreSQL's own detail ("Failing row contains
    (...)") is left out by the formatter."""
    engine = open_database(running.app.state.settings.database_url)
    placeholder = "?" if engine.dialect.name == "sqlite" else "%s"
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                f"INSERT INTO negotiation_notes (id, body) VALUES ({placeholder}, {placeholder})",
                ("x", NOTE_CANARY),
            )
    except Exception:  # a NOT NULL column is missing
        record = logging.makeLogRecord({"msg": "unhandled error", "exc_info": sys.exc_info()})
        line = json.loads(JsonFormatter().format(record))
    else:
        pytest.fail("the insert should have failed")
    finally:
        engine.dispose()
    assert "IntegrityError" in line["exc"] and "INSERT INTO negotiation_notes" in line["exc"]
    assert NOTE_CANARY not in json.dumps(line, ensure_ascii=False)
