"""Schema fuzzing: schemathesis against the app's own OpenAPI schema, served by uvicorn on loopback.

Every operation but the signed Slack routes gets 100 generated requests (valid and invalid, with
random and with real ids), derandomized so CI sees the same cases each run. No answer may be a
server error, and every answer must conform to the schema (status, content type, headers, body).
The Slack routes are fuzzed apart: without Slack's signature, anything sent is a 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.db import open_database, session_factory, upgrade
from models.engine import MatchingEngine
from service.app import create_app
from service.index.matcher import Matcher
from service.settings import Settings
from tests.helpers.database import fresh_postgres_database
from tests.helpers.processes import serve
from tests.helpers.service import seed

EXAMPLES = 100
# Invalid requests are generated too (they must get a documented 4xx, never a 5xx); schemathesis's
# negative_data_rejection is left out: it also flags an ignored unknown query parameter.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=list(HealthCheck), print_blob=True,
)


def _operations() -> list[tuple[str, str]]:
    # Building the app touches no database: the schema is known at collection time.
    paths = create_app(Settings()).openapi()["paths"]
    operations = [(method.upper(), path) for path, item in paths.items() for method in item
                  if not path.startswith("/slack/")]
    # The full reindex first, while the catalog is the seeded one: a hundred rebuilds stay cheap.
    return sorted(operations, key=lambda operation: operation[1] != "/v1/admin/reindex")


OPERATIONS = _operations()
SLACK = [("POST", "/slack/commands"), ("POST", "/slack/interactions")]


@dataclass
class Served:
    url: str
    schema: Any
    http: requests.Session
    ids: dict[str, str]  # path parameter name -> a real id


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    engine_parts: dict[str, Any],
) -> Iterator[Served]:
    """The seeded app on each engine, served once for the module (fuzzing changes its data)."""
    folder = tmp_path_factory.mktemp("fuzz")
    with _database(request.param, folder) as url:
        engine = open_database(url)
        upgrade(engine)
        keys, ids = seed(session_factory(engine))
        settings_ = Settings(database_url=url, index_dir=folder / "index", index_poll_seconds=0.5,
                             rate_limit_per_minute=1_000_000, slack_signing_secret="fuzz-secret")

        def matcher_factory(settings_: Settings, sessions: Any) -> Matcher:
            # The HTTP layer is under test: the multilingual channel (the slow encoder) stays off.
            engine = MatchingEngine(dense=engine_parts["dense"], multilingual=None,
                                    glossary=engine_parts["glossary"])
            return Matcher(settings_, sessions, engine=engine)

        app = create_app(settings_, matcher_factory)
        with serve(app) as base, requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {keys['admin']}"
            schema = schemathesis.openapi.from_dict(app.openapi())
            real = {"partner_id": ids["t-sub"], **_more_ids(http, base, ids["t-sub"])}
            yield Served(base, schema, http, real)
        engine.dispose()


def _database(kind: str, folder: Path) -> AbstractContextManager[str]:
    if kind == "postgres":
        return fresh_postgres_database()
    return nullcontext(f"sqlite:///{folder / 'fuzz.db'}")


def _more_ids(http: requests.Session, base: str, partner_id: str) -> dict[str, str]:
    """Real ids of each kind, so generated requests also reach the handlers, not only 404s."""
    note = http.post(f"{base}/v1/partners/{partner_id}/notes",
                     json={"kind": "meeting", "body": "fuzz seed note"}).json()
    contact = http.post(f"{base}/v1/partners/{partner_id}/contacts", json={"name": "Fuzz"}).json()
    asked = http.post(f"{base}/v1/recommendations", json={"query": "subscriptions"}).json()
    feedback = http.post(f"{base}/v1/recommendations/{asked['request_id']}/feedback",
                         json={"partner_id": partner_id, "verdict": "proposed"}).json()
    initiative = http.post(f"{base}/v1/initiatives", json={
        "partner_id": partner_id, "kind": "event", "title": "Fuzz seminar"}).json()
    return {"note_id": note["id"], "contact_id": contact["id"], "request_id": asked["request_id"],
            "introduction_id": feedback["introduction_id"], "initiative_id": initiative["id"]}


def _strategy(served: Served, method: str, path: str) -> Any:
    operation = served.schema[path][method]
    names = [p["name"] for p in served.schema.raw_schema["paths"][path][method.lower()]
             .get("parameters", []) if p["in"] == "path"]
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if names:
        real = {name: served.ids[name] for name in names}
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                                path_parameters=real))
    negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    strategies.append(negative)
    if names:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE,
                                                path_parameters=real))
    return st.one_of(strategies)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error_and_every_answer_conforms(
    served: Served, operation: tuple[str, str]
) -> None:
    method, path = operation
    calls: list[int] = []

    @FUZZ_SETTINGS
    @given(case=_strategy(served, method, path))
    def fuzz(case: Any) -> None:
        response = case.call(base_url=served.url, session=served.http, timeout=60)
        calls.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    fuzz()
    assert calls  # hypothesis stops early only when the inputs allow fewer distinct requests


@pytest.mark.parametrize("operation", SLACK, ids=[f"{m} {p}" for m, p in SLACK])
def test_unsigned_slack_requests_are_refused(served: Served, operation: tuple[str, str]) -> None:
    """Whatever the body and headers, a request without Slack's signature is a 401."""
    method, path = operation
    bodies = st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode))
    headers = st.dictionaries(
        st.sampled_from(["Content-Type", "X-Slack-Signature", "X-Slack-Request-Timestamp"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    )

    @FUZZ_SETTINGS
    @given(body=bodies, extra=headers)
    def fuzz(body: bytes, extra: dict[str, str]) -> None:
        answer = httpx.request(method, served.url + path, content=body, headers=extra, timeout=30)
        assert answer.status_code == 401, (answer.status_code, answer.text[:200])
        assert answer.json()["error"] == "unauthorized"

    fuzz()
