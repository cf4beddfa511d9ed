"""Feedback, introductions and joint initiatives over HTTP: idempotency, life cycle, access."""

from __future__ import annotations

from sqlalchemy import func, select

from catalog.tables import AuditEntry, Feedback, Introduction
from tests.helpers.service import Running

MANAGER = "partner_manager"


def recommendation(running: Running, query: str = "定期購入を入れたい") -> str:
    answer = running.client.post(
        "/v1/recommendations", json={"query": query, "client": {"name": "Sakura Tea KK"}},
        headers=running.headers("pm"),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["request_id"]


def feedback(running: Running, request_id: str, partner: str, verdict: str, role: str = "pm"):
    return running.client.post(
        f"/v1/recommendations/{request_id}/feedback",
        json={"partner_id": running.ids[partner], "verdict": verdict, "comment": "fits"},
        headers=running.headers(role),
    )


def count(running: Running, table: type) -> int:
    with running.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_feedback_twice_creates_one_introduction(running: Running) -> None:
    request_id = recommendation(running)
    first = feedback(running, request_id, "t-sub", "proposed")
    retry = feedback(running, request_id, "t-sub", "proposed")
    assert first.status_code == retry.status_code == 200, first.text
    assert first.json()["introduction_id"] == retry.json()["introduction_id"]
    assert first.json()["status"] == "proposed"
    assert count(running, Introduction) == 1 and count(running, Feedback) == 1

    adopted = feedback(running, request_id, "t-sub", "adopted")
    assert adopted.json()["introduction_id"] == first.json()["introduction_id"]
    assert adopted.json()["status"] == "adopted"
    assert count(running, Introduction) == 1 and count(running, Feedback) == 2
    with running.sessions() as session:
        intro = session.get(Introduction, first.json()["introduction_id"])
        assert intro is not None and intro.client == "Sakura Tea KK"
        assert intro.request_text == "定期購入を入れたい" and intro.adopted_on is not None


def test_an_adoption_reindexes_the_partner_for_the_next_ranking(running: Running) -> None:
    matcher = running.app.state.matcher
    request_id = recommendation(running)
    generation = matcher.generation
    documents = dict(matcher.engine._documents)
    feedback(running, request_id, "t-sub", "proposed")
    # the introductions shown changed (the generation moves), nothing decided: no re-indexing
    assert matcher.generation == generation + 1
    assert matcher.engine._documents == documents
    ask = {"query": "定期購入を入れたい"}
    first = running.client.post("/v1/recommendations", json=ask,
                                headers=running.headers("pm")).json()["candidates"][0]
    assert first["adoptions"] == {"proposed": 1, "introductions": 1, "adoption_rate": 0.0}
    feedback(running, request_id, "t-sub", "adopted")
    assert matcher.generation == generation + 2
    assert matcher.engine._documents != documents
    first = running.client.post("/v1/recommendations", json=ask,
                                headers=running.headers("pm")).json()["candidates"][0]
    assert first["partner"]["id"] == running.ids["t-sub"]
    assert first["adoptions"]["adoption_rate"] == 1.0


def test_feedback_errors(running: Running) -> None:
    request_id = recommendation(running)
    assert feedback(running, request_id, "t-sub", "adopted", role="viewer").status_code == 403
    no_key = running.client.post(f"/v1/recommendations/{request_id}/feedback",
                                 json={"partner_id": "x", "verdict": "adopted"})
    assert no_key.status_code == 401
    assert feedback(running, "no-such-request", "t-sub", "adopted").status_code == 404
    url = f"/v1/recommendations/{request_id}/feedback"
    unknown = running.client.post(url, json={"partner_id": "nope", "verdict": "adopted"},
                                  headers=running.headers("pm"))
    assert unknown.status_code == 404
    for body in ({"partner_id": running.ids["t-sub"], "verdict": "maybe"},
                 {"partner_id": running.ids["t-sub"], "verdict": "adopted", "extra": 1},
                 {"verdict": "adopted"}):
        answer = running.client.post(url, json=body, headers=running.headers("pm"))
        assert answer.status_code == 422, body
    assert count(running, Introduction) == 0


def test_introduction_life_cycle_revenue_share_and_audit(running: Running) -> None:
    request_id = recommendation(running)
    intro_id = feedback(running, request_id, "t-sub", "adopted").json()["introduction_id"]
    url = f"/v1/introductions/{intro_id}"
    live = running.client.patch(
        url, json={"status": "live", "live_on": "2026-01-01", "adopted_on": "2025-12-20",
                   "proposed_on": "2025-12-01", "revenue": 100_000, "revenue_period": "one_off",
                   "satisfaction": 4},
        headers=running.headers(MANAGER),
    )
    assert live.status_code == 200, live.text
    body = live.json()
    assert body["status"] == "live" and body["live_on"] == "2026-01-01"
    assert body["revenue_share_owed"] == 20_000  # the terms say 20pct of 100,000
    assert body["partner_name"] == "Teiki Subscriptions"
    assert "SECRET" not in live.text
    backwards = running.client.patch(url, json={"status": "proposed"}, headers=running.headers(MANAGER))
    assert backwards.status_code == 409
    disorder = running.client.patch(url, json={"churned_on": "2025-01-01"},
                                    headers=running.headers(MANAGER))
    assert disorder.status_code == 400
    churned = running.client.patch(url, json={"status": "churned"}, headers=running.headers(MANAGER))
    assert churned.json()["status"] == "churned" and churned.json()["churned_on"] is not None
    listed = running.client.get(f"/v1/introductions?status=churned&partner_id={running.ids['t-sub']}",
                                headers=running.headers(MANAGER)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == intro_id
    empty = running.client.get("/v1/introductions?status=live", headers=running.headers(MANAGER))
    assert empty.json()["total"] == 0
    with running.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == intro_id)
        ).all()
    assert actions.count("update") == 2 and "feedback" in actions  # refused changes roll back


def test_introduction_routes_refuse(running: Running) -> None:
    request_id = recommendation(running)
    intro_id = feedback(running, request_id, "t-sub", "proposed").json()["introduction_id"]
    url = f"/v1/introductions/{intro_id}"
    assert running.client.get("/v1/introductions").status_code == 401
    assert running.client.get("/v1/introductions", headers=running.headers("viewer")).status_code == 403
    as_pm = running.client.patch(url, json={"satisfaction": 3}, headers=running.headers("pm"))
    assert as_pm.status_code == 403
    assert running.client.get("/v1/introductions/nope", headers=running.headers(MANAGER)).status_code == 404
    for body in ({"satisfaction": 6}, {"revenue": -1}, {"status": "won"}, {"notes": "x"}):
        answer = running.client.patch(url, json=body, headers=running.headers(MANAGER))
        assert answer.status_code == 422, body
    for nulled in ({"revenue_period": None}, {"status": None}):  # null for what may not be empty
        answer = running.client.patch(url, json=nulled, headers=running.headers(MANAGER))
        assert answer.status_code == 400 and "cannot be null" in answer.json()["detail"], nulled
    assert running.client.get(url, headers=running.headers(MANAGER)).json()["satisfaction"] is None


def test_initiatives_crud(running: Running) -> None:
    headers = running.headers(MANAGER)
    created = running.client.post(
        "/v1/initiatives",
        json={"partner_id": running.ids["t-line"], "kind": "event", "title": "LINE webinar",
              "start_date": "2026-05-01", "end_date": "2026-05-01"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    initiative = created.json()
    assert initiative["status"] == "planned" and initiative["owner"] == "test-partner_manager"
    url = f"/v1/initiatives/{initiative['id']}"
    done = running.client.patch(url, json={"status": "succeeded", "outcome": "40 sign-ups"},
                                headers=headers)
    assert done.json()["status"] == "succeeded" and done.json()["outcome"] == "40 sign-ups"
    listed = running.client.get("/v1/initiatives?status=succeeded&from=2026-04-01&to=2026-05-31",
                                headers=headers).json()
    assert [i["id"] for i in listed["items"]] == [initiative["id"]]
    assert running.client.get("/v1/initiatives?to=2026-04-01", headers=headers).json()["total"] == 0
    assert running.client.delete(url, headers=headers).status_code == 204
    assert running.client.get(url, headers=headers).status_code == 404
    with running.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == initiative["id"])
        ).all()
    assert sorted(actions) == ["create", "delete", "update"]


def test_initiative_routes_refuse(running: Running) -> None:
    headers = running.headers(MANAGER)
    good = {"partner_id": running.ids["t-line"], "kind": "co_selling", "title": "x"}
    assert running.client.post("/v1/initiatives", json=good).status_code == 401
    assert running.client.post("/v1/initiatives", json=good, headers=running.headers("pm")).status_code == 403
    assert running.client.get("/v1/initiatives", headers=running.headers("pm")).status_code == 403
    unknown = running.client.post("/v1/initiatives", json={**good, "partner_id": "nope"}, headers=headers)
    assert unknown.status_code == 404
    for body in ({**good, "kind": "party"}, {**good, "start_date": "2026-05-02", "end_date": "2026-05-01"},
                 {**good, "budget": 1}, {"kind": "event", "title": "x"}):
        assert running.client.post("/v1/initiatives", json=body, headers=headers).status_code == 422, body
    for method in ("GET", "PATCH", "DELETE"):
        answer = running.client.request(method, "/v1/initiatives/nope", headers=headers,
                                        json={} if method == "PATCH" else None)
        assert answer.status_code == 404, method
    created = running.client.post("/v1/initiatives", json=good, headers=headers).json()
    null_title = running.client.patch(f"/v1/initiatives/{created['id']}", json={"title": None},
                                      headers=headers)
    assert null_title.status_code == 400


def test_feedback_backdates_an_adoption_and_go_live_in_one_call(running: Running) -> None:
    request_id = recommendation(running)
    url = f"/v1/recommendations/{request_id}/feedback"
    partner = running.ids["t-sub"]
    disorder = running.client.post(url, json={
        "partner_id": partner, "verdict": "adopted", "adopted_on": "2026-03-01",
        "live_on": "2026-02-01"}, headers=running.headers("pm"))
    assert disorder.status_code == 400 and count(running, Introduction) == 0  # nothing written
    rejected = running.client.post(url, json={
        "partner_id": partner, "verdict": "not_a_fit", "live_on": "2026-02-01"},
        headers=running.headers("pm"))
    assert rejected.status_code == 422
    done = running.client.post(url, json={
        "partner_id": partner, "verdict": "adopted", "proposed_on": "2026-01-10",
        "adopted_on": "2026-01-20", "live_on": "2026-02-01"}, headers=running.headers("pm"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "live"
    intro = running.client.get(f"/v1/introductions/{done.json()['introduction_id']}",
                               headers=running.headers(MANAGER)).json()
    assert (intro["proposed_on"], intro["adopted_on"], intro["live_on"]) == (
        "2026-01-10", "2026-01-20", "2026-02-01")


def test_a_pm_lists_the_introductions_they_proposed_without_money(running: Running) -> None:
    mine = feedback(running, recommendation(running), "t-sub", "adopted").json()
    asked = running.client.post("/v1/recommendations", json={"query": "コンビニ決済"},
                                headers=running.headers(MANAGER)).json()["request_id"]
    theirs = feedback(running, asked, "t-konbini", "proposed", role=MANAGER).json()
    running.client.patch(f"/v1/introductions/{mine['introduction_id']}",
                         json={"revenue": 100_000}, headers=running.headers(MANAGER))
    as_pm = running.client.get("/v1/introductions", headers=running.headers("pm"))
    assert as_pm.status_code == 200, as_pm.text
    items = as_pm.json()["items"]
    assert [(i["id"], i["status"]) for i in items] == [(mine["introduction_id"], "adopted")]
    assert not {"revenue", "revenue_share_owed", "revenue_period", "satisfaction"} & set(items[0])
    as_manager = running.client.get("/v1/introductions", headers=running.headers(MANAGER)).json()
    assert {i["id"] for i in as_manager["items"]} == {mine["introduction_id"],
                                                      theirs["introduction_id"]}
    assert {i["revenue_share_owed"] for i in as_manager["items"]} == {None, 20_000}  # 20%
    assert running.client.get("/v1/introductions",
                              headers=running.headers("viewer")).status_code == 403
