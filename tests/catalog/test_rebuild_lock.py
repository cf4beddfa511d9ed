"""One index rebuild at a time across processes sharing a PostgreSQL database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from catalog.db import open_database
from catalog.generation import rebuild_lock


@pytest.mark.postgres
def test_a_second_rebuild_waits_for_the_first(_migrated_postgres: Engine) -> None:
    # Two engines: two processes' connection pools, as two replicas have.
    other = open_database(_migrated_postgres.url.render_as_string(hide_password=False))
    holding, release, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with rebuild_lock(_migrated_postgres):
            holding.set()
            release.wait(30)

    def second() -> None:
        holding.wait(30)
        with rebuild_lock(other):
            second_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert holding.wait(30)
    assert not second_in.wait(1.0), "the second rebuild started while the first held the lock"
    release.set()
    assert second_in.wait(30), "the second rebuild never started"
    for thread in threads:
        thread.join(30)
    other.dispose()

