"""Every route of the app, for every role and for no key, against a table of who may use it."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from service.auth.callers import RANK, ROLES, Caller
from service.auth.keys import KeyCache
from tests.helpers.service import CANARY, SHARE_CANARY, TERMS_CANARY, Running

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
    ("GET", "/v1/partners/{partner_id}/similar"): "viewer",
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
            routes += [(method, route.path) for method in sorted(route.methods or ())]
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


def real_ids(running: Running) -> dict[str, str]:
    """An id of each kind of row, so that every GET route reaches its handler: the subscription
    partner (the canaries' partner), its note with terms, a contact, an introduction, an initiative."""
    manager = running.headers("partner_manager")
    sub = running.ids["t-sub"]
    asked = running.client.post("/v1/recommendations", json={"query": "定期購入を入れたい", "top_k": 8},
                                headers=manager).json()
    feedback = running.client.post(f"/v1/recommendations/{asked['request_id']}/feedback",
                                   json={"partner_id": sub, "verdict": "adopted"}, headers=manager)
    contact = running.client.post(f"/v1/partners/{sub}/contacts", json={"name": "Sato"}, headers=manager)
    initiative = running.client.post("/v1/initiatives", headers=manager, json={
        "partner_id": sub, "kind": "event", "title": "Webinar"})
    notes = running.client.get(f"/v1/partners/{sub}/notes", headers=manager).json()
    return {"partner_id": sub, "note_id": next(n["id"] for n in notes if n["terms"]),
            "contact_id": contact.json()["id"], "initiative_id": initiative.json()["id"],
            "introduction_id": feedback.json()["introduction_id"],
            "request_id": asked["request_id"]}


@pytest.mark.parametrize("role", ["viewer", "pm"])
def test_no_secret_reaches_a_viewer_or_a_pm(running: Running, role: str) -> None:
    """Three canaries: a confidential note's body, a public note's terms, the partner's
    revenue-share terms. Ask every GET route of the OpenAPI schema with real ids, and
    recommendations that find their partner; find none of them."""
    ids = real_ids(running)
    headers = running.headers(role)
    texts = [running.client.post("/v1/recommendations", json={"query": query, "top_k": 8},
                                 headers=headers).text
             for query in ("定期購入を入れたい", "subscriptions recurring orders", CANARY, TERMS_CANARY)]
    for path, operations in running.app.openapi()["paths"].items():
        if "get" in operations:
            texts.append(running.client.get(path.format(**ids), headers=headers).text)
    joined = "\n".join(texts)
    assert "Teiki Subscriptions" in joined and "Onboarding took two weeks" in joined or role == "viewer"
    for secret in (CANARY, TERMS_CANARY, SHARE_CANARY):
        assert secret not in joined, secret
    # while a partner manager does see them
    manager = running.headers("partner_manager")
    notes = running.client.get(f"/v1/partners/{ids['partner_id']}/notes", headers=manager).text
    partner = running.client.get(f"/v1/partners/{ids['partner_id']}", headers=manager).text
    assert CANARY in notes and TERMS_CANARY in notes and SHARE_CANARY in partner


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


def test_a_key_says_its_role_in_its_prefix(running: Running) -> None:
    prefixes = {role: key.split("_", 1)[0] for role, key in running.keys.items()}
    assert prefixes == {"viewer": "view", "pm": "pm", "partner_manager": "mgr", "admin": "adm"}
