"""Concurrency: `partnermatch serve --workers 4` and 50 concurrent writers, on SQLite (WAL, busy
timeout, immediate write transactions) and on PostgreSQL: no lost row, no 5xx, every worker's
index back in step with the database; then a 20-second smoke run of `partnermatch load`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from catalog.db import open_database, session_factory, upgrade
from catalog.generation import current_generation
from catalog.repository import active_partners
from catalog.tables import Contact, NegotiationNote, Partner
from scripts.cli import app as cli
from tests.helpers.database import fresh_postgres_database
from tests.helpers.processes import command_env, served
from tests.helpers.service import seed

WORKERS = 4
WRITERS = 50
KINDS = ("partner", "note", "contact", "change")  # each writer's writes, in this order


@dataclass
class Server:
    url: str
    pid: int
    sessions: sessionmaker[Session]
    keys: dict[str, str]
    ids: dict[str, str]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The seeded catalog in a database of its own, served by four worker processes."""
    folder = tmp_path_factory.mktemp("concurrency")
    database: AbstractContextManager[str] = (
        fresh_postgres_database() if request.param == "postgres"
        else nullcontext(f"sqlite:///{folder / 'concurrency.db'}")
    )
    with database as url:
        engine = open_database(url)
        upgrade(engine)
        sessions = session_factory(engine)
        keys, ids = seed(sessions)
        env = command_env(url, folder / "index")
        with served(env, folder / "server.log", workers=WORKERS) as (base, process):
            yield Server(base, process.pid, sessions, keys, ids)
        engine.dispose()


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {
            "partners": session.scalar(select(func.count()).select_from(Partner)) or 0,
            "notes": session.scalar(select(func.count()).select_from(NegotiationNote)) or 0,
            "contacts": session.scalar(select(func.count()).select_from(Contact)) or 0,
            "generation": current_generation(session),
        }


def writer(server: Server, number: int, start: threading.Barrier, out: list[dict[str, Any]]) -> None:
    """One client of its own (its own connections, so the kernel spreads them over workers)."""
    shared = server.ids["t-sub"]  # every writer also changes this one partner: row contention
    headers = {"Authorization": f"Bearer {server.keys['partner_manager']}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
        start.wait()
        calls = [
            ("partner", lambda: client.post("/v1/partners", json={
                "name": f"Writer {number}", "kind": "app", "status": "active",
                "description_en": f"Partner written by concurrent writer {number}"})),
            ("note", lambda: client.post(f"/v1/partners/{shared}/notes", json={
                "kind": "meeting", "body": f"note from writer {number}"})),
            ("contact", lambda: client.post(f"/v1/partners/{shared}/contacts", json={
                "name": f"Contact {number}"})),
            ("change", lambda: client.patch(f"/v1/partners/{shared}", json={
                "description_ja": f"書き手{number}の変更"})),
        ]
        for kind, call in calls:
            answer = call()
            body = answer.json() if answer.headers.get("content-type") == "application/json" else {}
            out.append({"kind": kind, "status": answer.status_code, "body": body, "writer": number})


def test_fifty_concurrent_writers_on_four_workers_lose_nothing(server: Server) -> None:
    before = counts(server.sessions)
    results: list[dict[str, Any]] = []
    start = threading.Barrier(WRITERS)
    threads = [threading.Thread(target=writer, args=(server, n, start, results))
               for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert len(results) == WRITERS * len(KINDS)
    statuses = sorted({r["status"] for r in results})
    assert all(200 <= r["status"] < 300 for r in results), statuses  # no 5xx, no 409, no 429
    after = counts(server.sessions)
    made = {kind: [r["body"] for r in results if r["kind"] == kind] for kind in KINDS}
    assert after["partners"] == before["partners"] + WRITERS
    assert after["notes"] == before["notes"] + WRITERS
    assert after["contacts"] == before["contacts"] + WRITERS
    # every catalog change bumped the generation exactly once: none was lost to a race
    assert after["generation"] == before["generation"] + 3 * WRITERS
    with server.sessions() as session:
        names = set(session.scalars(select(Partner.name)))
        bodies = set(session.scalars(select(NegotiationNote.body)))
        shared = session.get(Partner, server.ids["t-sub"])
        assert shared is not None
        last = shared.description_ja
    assert {b["name"] for b in made["partner"]} <= names
    assert {b["body"] for b in made["note"]} <= bodies
    assert last in {b["description_ja"] for b in made["change"]}
    assert_every_worker_caught_up(server)


def assert_every_worker_caught_up(server: Server, polls: int = 40, timeout: float = 180) -> None:
    """Fresh connections land on any worker: all must report the database's generation and
    exactly its active partners."""
    with server.sessions() as session:
        generation = current_generation(session)
        active = len(active_partners(session))
    deadline, in_step = time.monotonic() + timeout, 0
    while in_step < polls:
        assert time.monotonic() < deadline, "a worker's index did not catch up"
        ready = httpx.get(f"{server.url}/readyz", timeout=30).json()
        in_step = in_step + 1 if (ready["generation"], ready["partners"]) == (generation, active) else 0
        time.sleep(0.05)


def test_twenty_second_load_run_has_no_server_errors(server: Server) -> None:
    """The load script itself, for 20 seconds, with the reindex in the middle."""
    result = CliRunner().invoke(cli, [
        "load", "--base-url", server.url, "--minutes", str(20 / 60), "--key", server.keys["admin"],
        "--server-pid", str(server.pid), "--concurrency", "4",
        # latency and memory are the 10-minute run's business; here: it runs, and nothing fails
        "--p99-ms", "120000", "--read-p99-ms", "120000", "--write-p99-ms", "120000",
        "--max-memory-growth", "10",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["requests"] > 20 and summary["5xx_rate"] == 0
    assert summary["reindex"]["status"] == 200
    assert summary["memory"]["baseline_mb"] > 0
    assert {"p50", "p95", "p99"} <= set(summary["latency_ms"]["recommend"])
