"""Admission: no request takes a slot before it shows a key, and no slow client holds one.

Served by uvicorn on loopback with two slots, against raw sockets that send their headers and
then trickle their body."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from catalog.db import session_factory
from service.app import create_app
from service.index.matcher import Matcher
from service.settings import Settings
from tests.helpers.processes import serve
from tests.helpers.service import seed

SLOTS = 2


@pytest.fixture
def served(
    database: Engine, tmp_path: Path, matcher_factory: Callable[[Settings, Any], Matcher],
) -> Iterator[Callable[..., tuple[str, dict[str, str]]]]:
    """Start the app with the given settings; yields (base URL, keys by role)."""
    keys, _ = seed(session_factory(database))
    with ExitStack() as servers:

        def start(**settings: Any) -> tuple[str, dict[str, str]]:
            config = Settings(database_url=database.url.render_as_string(hide_password=False),
                              index_dir=tmp_path / "index", **settings)
            return servers.enter_context(serve(create_app(config, matcher_factory))), keys

        yield start


def trickle(url: str, headers: str, body_length: int = 100) -> socket.socket:
    """A connection that sends its headers and one byte of a body that never comes whole."""
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)))
    conn.sendall((f"POST /v1/recommendations HTTP/1.1\r\nHost: {host}\r\n{headers}"
                  f"Content-Type: application/json\r\nContent-Length: {body_length}\r\n\r\n{{").encode())
    return conn


def status_of(conn: socket.socket, timeout: float) -> int:
    conn.settimeout(timeout)
    return int(conn.recv(1024).split(b" ", 2)[1])


def test_slow_bodies_and_missing_keys_hold_no_slot(served: Callable[..., Any]) -> None:
    url, keys = served(max_requests_in_flight=SLOTS, body_timeout_seconds=3)
    keyed = f"Authorization: Bearer {keys['pm']}\r\n"
    slow = [trickle(url, keyed) for _ in range(2 * SLOTS)] + [trickle(url, "") for _ in range(2 * SLOTS)]
    try:
        time.sleep(0.5)  # every connection has sent its headers
        with httpx.Client(base_url=url, timeout=5) as client:
            started = time.monotonic()
            assert client.get("/healthz").status_code == 200
            answered = client.get("/v1/partners", headers={"Authorization": f"Bearer {keys['pm']}"})
            took = time.monotonic() - started
        assert answered.status_code == 200 and took < 1.0, took
        assert [status_of(conn, 2) for conn in slow[2 * SLOTS:]] == [401] * (2 * SLOTS)
        assert [status_of(conn, 10) for conn in slow[: 2 * SLOTS]] == [408] * (2 * SLOTS)
    finally:
        for conn in slow:
            conn.close()


def test_a_full_line_is_answered_503_with_retry_after(
    served: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    search = Matcher.search

    def held(self: Matcher, *args: Any, **kwargs: Any) -> Any:
        release.wait(20)  # the request keeps its slot until the test lets it go
        return search(self, *args, **kwargs)

    url, keys = served(max_requests_in_flight=1, max_requests_waiting=1)
    monkeypatch.setattr(Matcher, "search", held)
    headers = {"Authorization": f"Bearer {keys['pm']}"}
    answers: list[httpx.Response] = []

    def ask() -> None:
        answers.append(httpx.post(f"{url}/v1/recommendations", json={"query": "定期購入"},
                                  headers=headers, timeout=30))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.5)  # the first holds the slot, the second waits for it
    busy = httpx.post(f"{url}/v1/recommendations", json={"query": "定期購入"}, headers=headers)
    release.set()
    for thread in threads:
        thread.join(30)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert busy.json()["error"] == "unavailable"
    assert [a.status_code for a in answers] == [200, 200]
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_wrong_keys_count_against_the_client_address(served: Callable[..., Any]) -> None:
    url, keys = served(auth_failures_per_minute=3)
    with httpx.Client(base_url=url) as client:
        wrong = [client.get("/v1/partners", headers={"Authorization": f"Bearer nope-{n}"})
                 for n in range(4)]
        missing = client.get("/v1/partners")
        valid = client.get("/v1/partners", headers={"Authorization": f"Bearer {keys['pm']}"})
    assert [a.status_code for a in wrong] == [401, 401, 401, 429]
    assert missing.status_code == 429 and "retry-after" in missing.headers
    assert valid.status_code == 200  # a valid key is limited by its own rate only
