"""Every route of the app, for every role and for no key, against a table of who may use it."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from service.auth.callers import RANK, ROLES, Caller
from service.auth.keys import KeyCache
from tests.helpers.service import CANARY, Running

PUBLIC = "public"  # no key needed
SIGNED = "slack"  # signed by Slack instead of a key

# The least role that may use each route. A route missing here fails the test below.
ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("POST", "/v1/recommendations"): "viewer",
    ("GET", "/v1/partners"): "viewer",
    ("GET", "/v1/partners/{partner_id}"): "viewer",
    ("POST", "/v1/partners"): "partner_manager",
    ("PATCH", "/v1/partners/{partner_id}"): "partner_manager",
    ("DELETE", "/v1/partners/{partner_id}"): "partner_manager",
    ("GET", "/v1/partners/{partner_id}/notes"): "pm",
    ("POST", "/v1/partners/{partner_id}/notes"): "partner_manager",
    ("PATCH", "/v1/notes/{note_id}"): "partner_manager",
    ("DELETE", "/v1/notes/{note_id}"): "partner_manager",
    ("GET", "/v1/partners/{partner_id}/contacts"): "pm",
    ("POST", "/v1/partners/{partner_id}/contacts"): "partner_manager",
    ("PATCH", "/v1/contacts/{contact_id}"): "partner_manager",
    ("DELETE", "/v1/contacts/{contact_id}"): "partner_manager",
    ("POST", "/v1/recommendations/{request_id}/feedback"): "pm",
    ("GET", "/v1/introductions"): "partner_manager",
    ("GET", "/v1/introductions/{introduction_id}"): "partner_manager",
    ("PATCH", "/v1/introductions/{introduction_id}"): "partner_manager",
    ("GET", "/v1/initiatives"): "partner_manager",
    ("POST", "/v1/initiatives"): "partner_manager",
    ("GET", "/v1/initiatives/{initiative_id}"): "partner_manager",
    ("PATCH", "/v1/initiatives/{initiative_id}"): "partner_manager",
    ("DELETE", "/v1/initiatives/{initiative_id}"): "partner_manager",
    ("GET", "/v1/kpis"): "partner_manager",
    ("GET", "/v1/gaps"): "partner_manager",
    ("POST", "/v1/admin/reindex"): "admin",
    ("POST", "/slack/commands"): SIGNED,
    ("POST", "/slack/interactions"): SIGNED,
}
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def app_routes(running: Running) -> list[tuple[str, str]]:
    routes = []
    for route in running.app.routes:
        if isinstance(route, APIRoute) and route.path not in DOCS:
            routes += [(method, route.path) for method in sorted(route.methods)]
    return routes


def fill(path: str, running: Running) -> str:
    # Real ids where we have them, so allowed roles reach the handler rather than a 404.
    return re.sub(r"\{partner_id\}", running.ids["t-sub"], re.sub(r"\{\w+\}", "0" * 8, path))


def test_every_route_has_an_entry(running: Running) -> None:
    missing = [route for route in app_routes(running) if route not in ACCESS]
    assert not missing, f"routes without an authorization entry: {missing}"


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_gets_what_the_table_says(running: Running, role: str | None) -> None:
    failures = []
    for method, path in app_routes(running):
        least = ACCESS[(method, path)]
        if least == SIGNED:
            continue  # covered by the Slack tests: a request without a valid signature is a 401
        response = running.client.request(
            method, fill(path, running), headers=running.headers(role),
            json={} if method in ("POST", "PATCH") else None,
        )
        if least == PUBLIC:
            expected_ok = True
        elif role is None:
            expected_ok = response.status_code == 401
        elif RANK[role] < RANK[least]:
            expected_ok = response.status_code == 403
        else:
            expected_ok = response.status_code not in (401, 403)
        if not expected_ok or response.status_code >= 500:
            failures.append(f"{role} {method} {path} -> {response.status_code}")
    assert not failures


def test_revoked_or_wrong_keys_are_refused(running: Running) -> None:
    for header in ({"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, {}):
        answer = running.client.get("/v1/partners", headers=header)
        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthorized"


@pytest.mark.parametrize("role", ["viewer", "pm"])
def test_confidential_canary_reaches_no_viewer_or_pm(running: Running, role: str) -> None:
    """The canary sits in a confidential note of the subscription partner; the revenue-share
    terms are secret too. Ask every GET route and a recommendation that finds that partner."""
    secret_terms = "SECRET-REVSHARE-20pct"
    sub = running.ids["t-sub"]
    texts = []
    for query in ("定期購入を入れたい", "subscriptions recurring orders", CANARY):
        answer = running.client.post(
            "/v1/recommendations", json={"query": query, "top_k": 8}, headers=running.headers(role)
        )
        texts.append(answer.text)
    for method, path in app_routes(running):
        if method == "GET" and ACCESS[(method, path)] != PUBLIC:
            texts.append(running.client.get(fill(path, running), headers=running.headers(role)).text)
    texts.append(running.client.get(f"/v1/partners/{sub}", headers=running.headers(role)).text)
    joined = "\n".join(texts)
    assert "Teiki Subscriptions" in joined  # the partner itself is visible
    assert CANARY not in joined
    assert secret_terms not in joined
    # while a partner manager does see them
    manager = running.client.get(f"/v1/partners/{sub}/notes", headers=running.headers("partner_manager"))
    assert CANARY in manager.text


def test_the_key_cache_keeps_valid_keys_for_its_time_only() -> None:
    now = [0.0]
    cache = KeyCache(seconds=5, clock=lambda: now[0])
    valid = Caller(id="k1", name="pm", role="pm")
    assert cache.cached("pm_key") is None
    cache.remember("pm_key", valid)
    now[0] = 4.9
    assert cache.cached("pm_key") == valid
    assert cache.cached("other_key") is None
    now[0] = 5.1  # expired: to be read again (the key may have been revoked meanwhile)
    assert cache.cached("pm_key") is None
    off = KeyCache(seconds=0)
    off.remember("pm_key", valid)
    assert off.cached("pm_key") is None
