"""The matcher's saved index: a restart catches up from an older save instead of rebuilding;
saves happen once per generation, off the request path."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from catalog.db import session_factory, transaction
from catalog.generation import bump_generation, current_generation
from catalog.repository import active_partner_ids
from catalog.tables import Partner
from models.engine.store import VERSIONS_DIR, current_version
from service.index.matcher import Matcher
from service.settings import Settings
from tests.helpers.service import seed


@pytest.fixture
def started(
    database: Engine, tmp_path: Path, matcher_factory: Callable[[Settings, Any], Matcher]
) -> tuple[Matcher, Callable[[], Matcher], dict[str, str]]:
    url = database.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, index_dir=tmp_path / "index", index_save_seconds=0)
    sessions = session_factory(database)
    ids = seed(sessions)[1]

    def new_matcher() -> Matcher:
        return matcher_factory(settings, sessions)

    first = new_matcher()
    first.start()
    return first, new_matcher, ids


def test_a_restart_catches_up_from_an_older_saved_index(started, monkeypatch) -> None:
    first, new_matcher, ids = started
    saved = current_version(first.settings.index_dir)
    with transaction(first.sessions) as session:  # changes the saved index has not seen
        session.execute(update(Partner).where(Partner.id == ids["t-line"]).values(status="archived"))
        session.execute(update(Partner).where(Partner.id == ids["t-erp"])
                        .values(description_en="Gift wrapping and noshi for every order."))
        bump_generation(session)
    again = new_matcher()

    def no_rebuild() -> int:
        raise AssertionError("rebuilt instead of catching up")

    monkeypatch.setattr(again, "rebuild", no_rebuild)
    again.start()
    with first.sessions() as session:
        assert again.generation == current_generation(session) == saved.generation + 1
        assert again.engine.ids() == active_partner_ids(session)
    assert again.search("gift wrapping with noshi", 1).candidates[0].id == ids["t-erp"]
    # The catch-up was saved as the new current version, with its watermark.
    caught_up = current_version(first.settings.index_dir)
    assert caught_up.generation == again.generation and caught_up.extra["watermark"]


def test_an_index_saved_ahead_of_the_database_is_rebuilt(started) -> None:
    first, new_matcher, _ = started
    first.engine.save(first.settings.index_dir, first.generation + 5, {"watermark": None})
    again = new_matcher()
    again.start()
    assert again.generation == first.generation
    assert current_version(first.settings.index_dir).generation == first.generation


def test_changes_are_saved_once_per_generation_by_the_first_process_there(started) -> None:
    first, new_matcher, ids = started
    second = new_matcher()
    second.start()  # loads the first's save
    with transaction(first.sessions) as session:
        session.execute(update(Partner).where(Partner.id == ids["t-sub"]).values(name="Teiki Two"))
        generation = bump_generation(session)
    first.refresh([ids["t-sub"]], generation)  # a request's own change: applied, not yet saved
    assert current_version(first.settings.index_dir).generation == generation - 1
    first.sync()  # the next poll saves it
    saved = current_version(first.settings.index_dir)
    assert saved.generation == generation
    second.sync()  # the same generation, reached by another worker: not saved again
    assert current_version(first.settings.index_dir).folder == saved.folder
    assert len(list((first.settings.index_dir / VERSIONS_DIR).iterdir())) == 1


def test_a_saved_index_that_is_not_this_catalog_is_rebuilt(started) -> None:
    """Same generation, other partners (another database, or one restored over it): rebuilt."""
    first, new_matcher, ids = started
    with transaction(first.sessions) as session:  # no generation bump, as another database
        session.execute(update(Partner).where(Partner.id == ids["t-line"]).values(status="archived"))
    again = new_matcher()
    again.start()
    with first.sessions() as session:
        assert again.engine.ids() == active_partner_ids(session)
    assert ids["t-line"] not in again.engine.ids()


def test_a_poll_saves_once_the_last_save_is_old_enough(started, monkeypatch) -> None:
    first, _, ids = started
    first.settings = first.settings.model_copy(update={"index_save_seconds": 30})
    saved = current_version(first.settings.index_dir)
    clock = [time.monotonic()]
    monkeypatch.setattr("service.index.matcher.time.monotonic", lambda: clock[0])
    first._saved_at = clock[0]
    with transaction(first.sessions) as session:
        session.execute(update(Partner).where(Partner.id == ids["t-sub"]).values(name="Teiki Two"))
        generation = bump_generation(session)
    assert first.sync()  # applied at once, saved not yet
    assert first.generation == generation
    assert current_version(first.settings.index_dir).generation == saved.generation
    clock[0] += 31
    first.sync()
    assert current_version(first.settings.index_dir).generation == generation
