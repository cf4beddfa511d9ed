"""`partnermatch load` against a served process on loopback: a short, paced run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from catalog.db import open_database, session_factory, upgrade
from catalog.generation import bump_generation
from catalog.importers.upsert import apply_import
from catalog.tables import RecommendationRequest
from scripts.http_clients import concurrent_timings
from scripts.load import LoadConfig, LoadReport, Targets, run_load
from service.auth.keys import create_key
from tests.helpers.processes import catalog_records, command_env, served


def seeded(tmp_path: Path, size: int, role: str) -> tuple[str, Engine, str]:
    """A SQLite catalog of `size` listings and a key of `role`: its URL, engine and key."""
    url = f"sqlite:///{tmp_path / 'load.db'}"
    engine = open_database(url)
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        apply_import(session, "load", catalog_records("load", size))
        bump_generation(session)
        key = create_key(session, "load", role)[1]
    return url, engine, key


def test_a_paced_run_keeps_its_schedule_and_reports_every_kind(tmp_path: Path) -> None:
    url, engine, key = seeded(tmp_path, 40, "admin")
    with served(command_env(url, tmp_path / "index"), tmp_path / "serve.log") as (base, process):
        config = LoadConfig(base_url=base, key=key, seconds=6, concurrency=4, rate=20,
                            reindex_at=0.3, server_pid=process.pid, warmup=1)
        report = run_load(config)
    engine.dispose()
    # 20 a second for 6 s, started on schedule: 120 slots, the last ones cut by the stop time.
    assert 110 <= report.requests <= 120, report.summary()
    assert report.server_errors == 0 and set(report.statuses) <= {200, 201}, report.statuses
    assert report.latencies["recommend"] and report.latencies["read"]
    assert report.reindex["status"] == 200 and report.reindex["partners"] == 40
    assert report.memory["baseline_mb"] > 0
    assert not report.misses(Targets(p99_ms={}, max_memory_growth=1.0))


def test_rate_limited_answers_are_a_miss() -> None:
    report = LoadReport()
    for _ in range(50):
        report.record("recommend", 200, 0.01)
    report.record("recommend", 429, 0.001)
    missed = report.misses(Targets())
    assert len(missed) == 1 and "rate-limited (429)" in missed[0]


def test_the_benchmark_clients_run_as_processes_and_report_every_request(tmp_path: Path) -> None:
    url, engine, key = seeded(tmp_path, 20, "pm")
    with served(command_env(url, tmp_path / "index"), tmp_path / "serve.log") as (base, _):
        timings, seconds = concurrent_timings(base, key, ["gift cards", "reviews"], 12, 3)
        with pytest.raises(RuntimeError, match="HTTPStatusError"):  # a client's failure is raised
            concurrent_timings(base, "pm_not-a-key", ["gift cards"], 2, 2)
    with session_factory(engine)() as session:
        recorded = session.scalar(select(func.count()).select_from(RecommendationRequest))
    engine.dispose()
    assert len(timings) == 12 and all(t > 0 for t in timings) and seconds > 0
    assert recorded == 12  # every request answered and recorded by the server
