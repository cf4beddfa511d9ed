"""Crash safety: real `partnermatch` processes SIGKILLed at random moments, then restarted.

Three kinds of rounds, chosen by a seeded RNG: `partnermatch index build` (killed anywhere, or
just as it starts saving), `partnermatch serve` under a loop of writes through the HTTP API, and
`partnermatch import catalog`. After every kill:
- no write the API acknowledged (2xx) is missing, and an import is all there or not at all;
- the saved index always loads whole: at the database's generation with exactly its active
  partners, or at an older generation, from which the next start catches up;
- the next process starts on it, and a served index holds exactly the active partners.
The subprocesses run with the multilingual channel off: the index is then two files (vectors
and documents) instead of three, which keeps every start to a few seconds; the save is the same.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import open_database, session_factory, upgrade
from catalog.generation import bump_generation, current_generation
from catalog.importers.upsert import apply_import
from catalog.repository import active_partners
from catalog.tables import NegotiationNote, Partner
from models.engine import MatchingEngine
from models.engine.store import VERSIONS_DIR
from service.auth.keys import create_key
from tests.helpers.processes import catalog_records, command_env, kill, partnermatch, served

# 20 kills on SQLite, whose file the process itself writes; 10 on PostgreSQL, whose server
# outlives the kills (every start costs seconds: the file stays within a few minutes).
KILLS = {"sqlite": 20, "postgres": 10}
SEED = 20260801
PARTNERS = 200


@dataclass
class Ledger:
    """What the writer loop sent, and which writes the API acknowledged."""

    partners: dict[str, str] = field(default_factory=dict)  # id -> name, acknowledged
    notes: dict[str, str] = field(default_factory=dict)  # id -> body, acknowledged
    archived: set[str] = field(default_factory=set)  # acknowledged archivals
    descriptions: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # sent, acked
    acknowledged: int = 0


def write_loop(url: str, key: str, ids: list[str], ledger: Ledger, stop: threading.Event,
               rng: random.Random) -> None:
    """Writes through the HTTP API until the server dies; records only answered 2xx as done."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        while not stop.is_set():
            step, partner = rng.random(), rng.choice(ids)
            try:
                if step < 0.35:
                    name = f"Written {rng.getrandbits(48):x}"
                    answer = client.post("/v1/partners", json={
                        "name": name, "kind": "app", "status": "active",
                        "description_en": f"{name}: gift wrapping and noshi"})
                    if answer.status_code == 201:
                        ledger.partners[answer.json()["id"]] = name
                elif step < 0.65:
                    body = f"note {rng.getrandbits(48):x}"
                    answer = client.post(f"/v1/partners/{partner}/notes",
                                         json={"kind": "meeting", "body": body})
                    if answer.status_code == 201:
                        ledger.notes[answer.json()["id"]] = body
                elif step < 0.9:
                    text = f"changed {rng.getrandbits(48):x}"
                    sent = ledger.descriptions.setdefault(partner, [])
                    sent.append((text, False))
                    answer = client.patch(f"/v1/partners/{partner}", json={"description_en": text})
                    if answer.status_code == 200:
                        sent[-1] = (text, True)
                else:
                    answer = client.delete(f"/v1/partners/{partner}")
                    if answer.status_code == 200:
                        ledger.archived.add(partner)
                        ids.remove(partner)
            except httpx.HTTPError:
                return  # the server was killed: whatever was not answered was not acknowledged
            assert answer.status_code < 500, answer.text
            ledger.acknowledged += 1


def check_ledger(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    """Every acknowledged write is in the database."""
    with sessions() as session:
        names = dict(session.execute(select(Partner.id, Partner.name)).tuples().all())
        statuses = dict(session.execute(select(Partner.id, Partner.status)).tuples().all())
        bodies = dict(session.execute(select(NegotiationNote.id, NegotiationNote.body)).tuples().all())
        descriptions = dict(session.execute(select(Partner.id, Partner.description_en)).tuples().all())
    assert all(names.get(i) == name for i, name in ledger.partners.items()), "a partner was lost"
    assert all(bodies.get(i) == body for i, body in ledger.notes.items()), "a note was lost"
    assert all(statuses[i] == "archived" for i in ledger.archived), "an archival was lost"
    for partner, sent in ledger.descriptions.items():
        acked = [i for i, (_, ok) in enumerate(sent) if ok]
        if acked:  # the last acknowledged change, or one sent after it that committed unanswered
            assert descriptions[partner] in {text for text, _ in sent[acked[-1]:]}, "a change was lost"


def check_saved_index(
    engine_parts: dict[str, Any], index_dir: Path, sessions: sessionmaker[Session]
) -> str:
    """Load the saved index as a restart would: whole, and at the database's generation holding
    exactly its active partners, or at an older generation (the start then catches up)."""
    with sessions() as session:
        generation = current_generation(session)
        active = {p.id for p in active_partners(session)}
    engine = MatchingEngine(dense=engine_parts["dense"], multilingual=None,
                            glossary=engine_parts["glossary"])
    saved = engine.load(index_dir)  # never raises: a torn save would be refused, not loaded
    assert saved is not None, "the saved index does not load"
    if saved.generation == generation:
        assert engine.ids() == active, "the saved index is not the database's catalog"
        return "current"
    assert saved.generation < generation, "the saved index is ahead of the database"
    return "older"


@dataclass
class Rig:
    kind: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    index_dir: Path
    env: dict[str, str]
    key: str
    log: Path
    folder: Path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    """A catalog of 200 short listings in a database of its own, for the subprocesses."""
    if request.param == "postgres":
        from tests.helpers.database import fresh_postgres_database

        database: Any = fresh_postgres_database()
    else:
        from contextlib import nullcontext

        database = nullcontext(f"sqlite:///{tmp_path / 'crash.db'}")
    with database as url:
        engine = open_database(url)
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            apply_import(session, "crash", catalog_records("crash", PARTNERS))
            bump_generation(session)
            key = create_key(session, "crash-writer", "partner_manager")[1]
        index_dir = tmp_path / "index"
        yield Rig(request.param, url, engine, sessions, index_dir, command_env(url, index_dir), key,
                  tmp_path / "processes.log", tmp_path)
        engine.dispose()


def touch_catalog(sessions: sessionmaker[Session], rng: random.Random) -> None:
    """A change made straight in the database, so the next build saves a new generation.

    It changes the Japanese description: the write loop's ledger follows the English one, and a
    change made behind its back would read as a lost write."""
    with sessions() as session, session.begin():
        partner = rng.choice(list(active_partners(session)))
        session.execute(update(Partner).where(Partner.id == partner.id)
                        .values(description_ja=f"変更 {rng.getrandbits(32):x}"))
        bump_generation(session)


def build_round(rig: Rig, rng: random.Random, lifetime: float) -> bool:
    """`index build`, killed at a random moment or just as its save begins; True when killed."""
    touch_catalog(rig.sessions, rng)
    process = partnermatch("index", "build", env=rig.env, log=rig.log)
    at_save = rng.random() < 0.5
    deadline = time.monotonic() + (lifetime * 2 if at_save else rng.uniform(0.3, 1.1) * lifetime)
    while time.monotonic() < deadline and process.poll() is None:
        if at_save and _saving(rig.index_dir):
            time.sleep(rng.uniform(0, 0.02))
            break
        time.sleep(0.001 if at_save else 0.05)
    killed = process.poll() is None
    kill(process)
    return killed


def _saving(index_dir: Path) -> bool:
    """A save is under way: its new version folder stands beside the current one."""
    versions = index_dir / VERSIONS_DIR
    return versions.is_dir() and len(os.listdir(versions)) > 1


def serve_round(rig: Rig, rng: random.Random, ledger: Ledger) -> bool:
    """`serve` under a write loop, killed at a random moment; the start itself is a restart check."""
    with served(rig.env, rig.log) as (url, process):
        ready = httpx.get(f"{url}/readyz").json()
        with rig.sessions() as session:
            assert ready["generation"] == current_generation(session)
            assert ready["partners"] == len(active_partners(session))
            ids = [p.id for p in active_partners(session)]
        stop = threading.Event()
        writer = threading.Thread(target=write_loop, daemon=True,
                                  args=(url, rig.key, ids, ledger, stop, random.Random(rng.random())))
        acknowledged, deadline = ledger.acknowledged, time.monotonic() + 60
        writer.start()
        while ledger.acknowledged == acknowledged and time.monotonic() < deadline:
            time.sleep(0.01)  # writes are under way once the first is answered
        time.sleep(rng.uniform(0.0, 2.5))
        kill(process)
        stop.set()
        writer.join(timeout=60)
    return True


def import_round(rig: Rig, rng: random.Random, number: int) -> bool:
    """`import catalog` of 20 new partners, killed at a random moment: all of it or none."""
    prefix = f"imp{number}"
    file = rig.folder / f"{prefix}.yaml"
    file.write_text(yaml.safe_dump({"source": prefix, "partners": catalog_records(prefix, 20)}))
    process = partnermatch("import", "catalog", str(file), env=rig.env, log=rig.log)
    time.sleep(rng.uniform(0.5, 12.0))
    killed = process.poll() is None
    kill(process)
    with rig.sessions() as session:
        stored = len(session.scalars(select(Partner.id).where(Partner.source == prefix)).all())
    assert stored in (0, 20), f"a killed import left {stored} of 20 partners"
    assert killed or process.returncode != 0 or stored == 20, "a finished import was lost"
    return killed


def test_sigkill_at_random_moments_loses_nothing_and_never_serves_a_partial_index(
    rig: Rig, engine_parts: dict[str, Any]
) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    first = partnermatch("index", "build", env=rig.env, log=rig.log)  # the first, whole build
    assert first.wait(timeout=600) == 0, rig.log.read_text()[-2000:]
    lifetime = time.monotonic() - started
    assert check_saved_index(engine_parts, rig.index_dir, rig.sessions) == "current"
    ledger, kills, outcomes, rounds, wanted = Ledger(), 0, [], 0, KILLS[rig.kind]
    while kills < wanted and rounds < wanted * 2:
        rounds += 1
        kind = rng.choice(("build", "build", "serve", "import"))
        if kind == "build":
            killed = build_round(rig, rng, lifetime)
        elif kind == "serve":
            killed = serve_round(rig, rng, ledger)
        else:
            killed = import_round(rig, rng, rounds)
        kills += killed
        check_ledger(rig.sessions, ledger)
        outcomes.append((kind, killed, check_saved_index(engine_parts, rig.index_dir, rig.sessions)))
    assert kills == wanted, outcomes
    assert ledger.acknowledged > 0, "the write loops never got an answer"
    # The last restart: the index it serves holds exactly the database's active partners.
    with served(rig.env, rig.log) as (url, _):
        ready = httpx.get(f"{url}/readyz").json()
        with rig.sessions() as session:
            assert ready["generation"] == current_generation(session)
            assert ready["partners"] == len(active_partners(session))
    check_ledger(rig.sessions, ledger)
    print(f"\n{kills} kills in {rounds} rounds, {ledger.acknowledged} acknowledged writes; "
          f"saved index after each kill: {[o[2] for o in outcomes]}")
