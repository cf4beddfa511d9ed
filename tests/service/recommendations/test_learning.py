"""Learning from feedback: recorded adoptions become a bounded ranking prior, switchable off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.db import session_factory
from service.app import create_app
from service.index.matcher import Matcher
from service.settings import Settings
from tests.helpers.service import Running, seed

# (query, the partner that answers it); Point Club (loyalty points) answers none of them.
RELEVANT = [("定期購入を入れたい", "t-sub"), ("コンビニ決済と後払いに対応したい", "t-konbini"),
            ("配送日時を指定したい", "t-delivery")]
LOYALTY = "ポイントと会員ランクを導入したい"


def ask(running: Running, query: str) -> dict[str, Any]:
    answer = running.client.post("/v1/recommendations", json={"query": query, "top_k": 8},
                                 headers=running.headers("pm"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def verdict(running: Running, query: str, partner: str, value: str) -> None:
    request_id = ask(running, query)["request_id"]
    answer = running.client.post(
        f"/v1/recommendations/{request_id}/feedback",
        json={"partner_id": running.ids[partner], "verdict": value},
        headers=running.headers("pm"),
    )
    assert answer.status_code == 200, answer.text


def ranking(running: Running, query: str) -> list[str]:
    names = {v: k for k, v in running.ids.items()}
    return [names[c["partner"]["id"]] for c in ask(running, query)["candidates"]]


def prior_share(running: Running, query: str, partner: str) -> float:
    for candidate in ask(running, query)["candidates"]:
        if candidate["partner"]["id"] == running.ids[partner]:
            return float(candidate["signals"].get("priors", 0.0))
    raise AssertionError(f"{partner} not among the candidates")


def flood(running: Running) -> None:
    """The worst case: the irrelevant partner adopted every time, the relevant ones never."""
    for _ in range(3):
        verdict(running, LOYALTY, "t-loyalty", "adopted")
    for query, partner in RELEVANT:
        verdict(running, query, partner, "not_a_fit")


def test_recorded_adoptions_never_lift_an_irrelevant_partner(running: Running) -> None:
    before = {query: ranking(running, query) for query, _ in RELEVANT}
    share_before = prior_share(running, LOYALTY, "t-loyalty")
    flood(running)
    assert prior_share(running, LOYALTY, "t-loyalty") > share_before  # the signal is in effect
    for query, partner in RELEVANT:
        assert before[query][0] == partner
        after = ranking(running, query)
        assert after[0] == partner, (query, after)
        assert after.index("t-loyalty") > after.index(partner)


@pytest.fixture
def running_without_signal(
    database: Engine, tmp_path: Path, matcher_factory: Callable[[Settings, Any], Matcher]
) -> Iterator[Running]:
    url = database.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, index_dir=tmp_path / "index", adoption_signal=False)
    sessions = session_factory(database)
    keys, ids = seed(sessions)
    app = create_app(settings, matcher_factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Running(app=app, client=client, keys=keys, sessions=sessions, ids=ids)


def test_the_setting_switches_the_signal_off(running_without_signal: Running) -> None:
    running = running_without_signal
    documents = dict(running.app.state.matcher.engine._documents)
    share_before = prior_share(running, LOYALTY, "t-loyalty")
    flood(running)
    assert running.app.state.matcher.engine._documents == documents  # nothing re-indexed
    running.app.state.matcher.rebuild()  # even a full rebuild leaves adoptions out
    assert prior_share(running, LOYALTY, "t-loyalty") == share_before
