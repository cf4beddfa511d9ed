"""Partners, notes and contacts over HTTP: success, validation, not found, limits."""

from __future__ import annotations

from sqlalchemy import event, func, select

from catalog.tables import AuditEntry, NegotiationNote, Partner
from tests.helpers.service import Running

MANAGER = "partner_manager"


def test_list_partners_pages_and_filters(running: Running) -> None:
    page = running.client.get("/v1/partners?limit=3&offset=0", headers=running.headers("viewer"))
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == 8 and len(body["items"]) == 3
    assert "revenue_share_terms" not in body["items"][0]
    rest = running.client.get("/v1/partners?limit=200&offset=3", headers=running.headers("viewer"))
    assert len(rest.json()["items"]) == 5
    names = {p["name"] for p in body["items"] + rest.json()["items"]}
    assert len(names) == 8
    active = running.client.get("/v1/partners?status=active", headers=running.headers("viewer"))
    assert {p["status"] for p in active.json()["items"]} == {"active"}
    payments = running.client.get("/v1/partners?category=Payments", headers=running.headers("pm"))
    assert [p["name"] for p in payments.json()["items"]] == ["Konbini Checkout"]


def test_list_partners_rejects_bad_paging(running: Running) -> None:
    for query in ("limit=201", "limit=0", "offset=-1", "status=unknown"):
        answer = running.client.get(f"/v1/partners?{query}", headers=running.headers("viewer"))
        assert answer.status_code == 422, query
        assert answer.json()["error"] == "validation_error"
        assert isinstance(answer.json()["detail"], str) and answer.json()["fields"]


def test_read_partner_and_terms_by_role(running: Running) -> None:
    sub = running.ids["t-sub"]
    as_pm = running.client.get(f"/v1/partners/{sub}", headers=running.headers("pm")).json()
    assert as_pm["name"] == "Teiki Subscriptions" and "revenue_share_terms" not in as_pm
    as_manager = running.client.get(f"/v1/partners/{sub}", headers=running.headers(MANAGER)).json()
    assert as_manager["revenue_share_terms"] == "SECRET-REVSHARE-20pct"
    missing = running.client.get("/v1/partners/nope", headers=running.headers("pm"))
    assert missing.status_code == 404
    assert set(missing.json()) == {"error", "detail", "fields", "request_id"}
    assert missing.json()["request_id"] == missing.headers["x-request-id"]


def test_created_partner_is_first_candidate_in_the_next_request(running: Running) -> None:
    created = running.client.post(
        "/v1/partners",
        json={"name": "Furoshiki Wrap", "kind": "app",
              "description_en": "Furoshiki cloth gift wrapping service for online orders",
              "description_ja": "風呂敷でのギフトラッピングサービス",
              "capabilities": ["furoshiki-wrapping"]},
        headers=running.headers(MANAGER),
    )
    assert created.status_code == 201, created.text
    partner = created.json()
    assert partner["status"] == "prospect" and partner["source"] == "manual"
    answer = running.client.post(
        "/v1/recommendations",
        json={"query": "furoshiki cloth gift wrapping for orders"},
        headers=running.headers("pm"),
    )
    assert answer.json()["candidates"][0]["partner"]["id"] == partner["id"]


def test_create_partner_validation(running: Running) -> None:
    bad = [
        {"kind": "app"},
        {"name": "", "kind": "app"},
        {"name": "X", "kind": "spaceship"},
        {"name": "X", "kind": "app", "unknown_field": 1},
        {"name": "X", "kind": "app", "rating": 7},
    ]
    for body in bad:
        answer = running.client.post("/v1/partners", json=body, headers=running.headers(MANAGER))
        assert answer.status_code == 422, body
    not_json = running.client.post(
        "/v1/partners", content=b"{oops", headers={**running.headers(MANAGER),
                                                   "content-type": "application/json"}
    )
    assert not_json.status_code == 422


def test_update_and_archive_follow_into_recommendations(running: Running) -> None:
    konbini = running.ids["t-konbini"]
    patched = running.client.patch(
        f"/v1/partners/{konbini}", json={"status": "paused", "name": "Konbini Checkout Pro"},
        headers=running.headers(MANAGER),
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Konbini Checkout Pro"
    assert running.client.patch(
        f"/v1/partners/{konbini}", json={"name": None}, headers=running.headers(MANAGER)
    ).status_code == 400
    query = {"query": "convenience store payment", "top_k": 8}
    before = running.client.post("/v1/recommendations", json=query, headers=running.headers("pm"))
    assert konbini in [c["partner"]["id"] for c in before.json()["candidates"]]
    archived = running.client.delete(f"/v1/partners/{konbini}", headers=running.headers(MANAGER))
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    after = running.client.post("/v1/recommendations", json=query, headers=running.headers("pm"))
    assert konbini not in [c["partner"]["id"] for c in after.json()["candidates"]]
    listed = running.client.get("/v1/partners", headers=running.headers("viewer")).json()
    assert listed["total"] == 7
    with running.sessions() as session:  # a soft delete: the row and its history stay
        row = session.get(Partner, konbini)
        assert row is not None and row.status == "archived"
        assert (session.scalar(select(func.count()).select_from(AuditEntry)) or 0) >= 2


def test_notes_lifecycle_and_confidentiality(running: Running) -> None:
    sub = running.ids["t-sub"]
    pm_notes = running.client.get(f"/v1/partners/{sub}/notes", headers=running.headers("pm"))
    assert [n["confidential"] for n in pm_notes.json()] == [False]
    all_notes = running.client.get(f"/v1/partners/{sub}/notes", headers=running.headers(MANAGER))
    assert len(all_notes.json()) == 2
    assert all_notes.json()[0]["date"] >= all_notes.json()[1]["date"]  # newest first
    created = running.client.post(
        f"/v1/partners/{sub}/notes",
        json={"kind": "issue", "body": "Webhook retries were slow in October.", "outcome": "negative"},
        headers=running.headers(MANAGER),
    )
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["author"] == "test-partner_manager" and note["confidential"] is False
    edited = running.client.patch(
        f"/v1/notes/{note['id']}", json={"confidential": True}, headers=running.headers(MANAGER)
    )
    assert edited.json()["confidential"] is True
    pm_view = running.client.get(f"/v1/partners/{sub}/notes", headers=running.headers("pm")).json()
    assert note["id"] not in [n["id"] for n in pm_view]
    assert running.client.delete(
        f"/v1/notes/{note['id']}", headers=running.headers(MANAGER)
    ).status_code == 204
    assert running.client.patch(
        f"/v1/notes/{note['id']}", json={"body": "x"}, headers=running.headers(MANAGER)
    ).status_code == 404
    with running.sessions() as session:  # withdrawn, never lost
        withdrawn = session.get(NegotiationNote, note["id"])
        assert withdrawn is not None and withdrawn.deleted_at is not None
    bad = ({"kind": "gossip", "body": "x"}, {"kind": "meeting"}, {"kind": "meeting", "body": "x", "x": 1})
    for body in bad:
        answer = running.client.post(f"/v1/partners/{sub}/notes", json=body, headers=running.headers(MANAGER))
        assert answer.status_code == 422
    assert running.client.post(
        "/v1/partners/nope/notes", json={"kind": "meeting", "body": "x"}, headers=running.headers(MANAGER)
    ).status_code == 404


def test_recommendation_notes_by_role(running: Running) -> None:
    query = {"query": "subscriptions and recurring orders", "top_k": 3}
    by_role = {}
    for role in ("viewer", "pm", MANAGER):
        answer = running.client.post("/v1/recommendations", json=query, headers=running.headers(role))
        top = answer.json()["candidates"][0]
        assert top["partner"]["name"] == "Teiki Subscriptions"
        by_role[role] = top["notes"]
    assert by_role["viewer"] == []
    assert [n["confidential"] for n in by_role["pm"]] == [False]
    assert len(by_role[MANAGER]) == 2


def test_a_repeated_recommendation_writes_its_record_only_yet_shows_every_change(
    running: Running,
) -> None:
    """What candidates show of partners is kept per catalog generation: asked again, the one
    statement is the record of the answer. A change to a partner, its notes or its introductions
    shows in the next answer all the same."""
    sub = running.ids["t-sub"]
    ask = {"query": "subscriptions and recurring orders", "top_k": 3}

    def answer() -> dict:
        reply = running.client.post("/v1/recommendations", json=ask, headers=running.headers(MANAGER))
        assert reply.status_code == 200, reply.text
        return reply.json()

    assert answer()["candidates"][0]["partner"]["id"] == sub
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_rest) -> None:
        if "catalog_state" not in statement:  # the matcher's poll of the generation
            statements.append(statement.strip())

    event.listen(running.app.state.database, "before_cursor_execute", seen)
    try:
        request_id = answer()["request_id"]
    finally:
        event.remove(running.app.state.database, "before_cursor_execute", seen)
    done = [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert len(done) == 1 and done[0].startswith("INSERT INTO recommendation_requests"), statements

    note = {"kind": "meeting", "body": "Renewal agreed for next year.", "outcome": "positive"}
    assert running.client.post(f"/v1/partners/{sub}/notes", json=note,
                               headers=running.headers(MANAGER)).status_code == 201
    assert answer()["candidates"][0]["notes"][0]["body"] == note["body"]
    proposed = running.client.post(f"/v1/recommendations/{request_id}/feedback",
                                   json={"partner_id": sub, "verdict": "proposed"},
                                   headers=running.headers("pm"))
    assert proposed.status_code in (200, 201), proposed.text
    assert answer()["candidates"][0]["adoptions"]["proposed"] == 1
    assert running.client.patch(f"/v1/partners/{sub}", json={"name": "Teiki Subscriptions Plus"},
                                headers=running.headers(MANAGER)).status_code == 200
    assert answer()["candidates"][0]["partner"]["name"] == "Teiki Subscriptions Plus"


def test_contacts_lifecycle(running: Running) -> None:
    sub = running.ids["t-sub"]
    created = running.client.post(
        f"/v1/partners/{sub}/contacts",
        json={"name": "Sato Hanako", "role": "Partner success", "email": "hanako@example.jp"},
        headers=running.headers(MANAGER),
    )
    assert created.status_code == 201
    contact = created.json()
    listed = running.client.get(f"/v1/partners/{sub}/contacts", headers=running.headers("pm")).json()
    assert [c["name"] for c in listed] == ["Sato Hanako"]
    assert running.client.patch(
        f"/v1/contacts/{contact['id']}", json={"role": "CEO"}, headers=running.headers(MANAGER)
    ).json()["role"] == "CEO"
    assert running.client.post(
        f"/v1/partners/{sub}/contacts", json={"name": "X", "email": "not-an-email"},
        headers=running.headers(MANAGER),
    ).status_code == 422
    assert running.client.delete(
        f"/v1/contacts/{contact['id']}", headers=running.headers(MANAGER)
    ).status_code == 204
    assert running.client.get(f"/v1/partners/{sub}/contacts", headers=running.headers("pm")).json() == []


def test_recommendation_validation_and_limits(running: Running) -> None:
    pm = running.headers("pm")
    for body in ({"query": ""}, {"query": "x" * 2001}, {"query": "x", "top_k": 51},
                 {"query": "x", "top_k": 0}, {"query": "x", "extra": True},
                 {"query": "x", "filters": {"colour": ["red"]}}):
        assert running.client.post("/v1/recommendations", json=body, headers=pm).status_code == 422
    huge = b'{"query": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    answer = running.client.post(
        "/v1/recommendations", content=huge, headers={**pm, "content-type": "application/json"}
    )
    assert answer.status_code == 413 and answer.json()["error"] == "payload_too_large"


def test_recommendation_filters_apply_before_top_k(running: Running) -> None:
    answer = running.client.post(
        "/v1/recommendations",
        json={"query": "subscriptions", "top_k": 5, "filters": {"platforms": ["Shopify POS"]}},
        headers=running.headers("pm"),
    )
    names = [c["partner"]["name"] for c in answer.json()["candidates"]]
    assert names == ["Point Club"]


def test_recommendation_answer_shape_and_record(running: Running) -> None:
    answer = running.client.post(
        "/v1/recommendations", json={"query": "コンビニ決済", "client": {"name": "Cafe KK"}},
        headers=running.headers("pm"),
    ).json()
    assert answer["language"] == "ja" and answer["took_ms"] >= 0
    top = answer["candidates"][0]
    assert top["partner"]["name"] == "Konbini Checkout"
    assert {"rank", "score", "partner", "why", "matched", "evidence", "signals", "notes",
            "adoptions"} <= set(top)
    assert top["rank"] == 1 and top["why"]
    from catalog.tables import RecommendationRequest

    with running.sessions() as session:
        record = session.get(RecommendationRequest, answer["request_id"])
        assert record is not None
        assert record.query == "コンビニ決済" and record.client == {"name": "Cafe KK"}
        assert record.candidates[0]["partner_id"] == top["partner"]["id"]


def test_rate_limit_answers_429_with_retry_after(running: Running) -> None:
    running.app.state.limiter.__init__(per_minute=3)
    statuses = [
        running.client.get("/v1/partners", headers=running.headers("viewer")).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    limited = running.client.get("/v1/partners", headers=running.headers("viewer"))
    assert int(limited.headers["retry-after"]) >= 1
    # another key has its own bucket
    assert running.client.get("/v1/partners", headers=running.headers("pm")).status_code == 200


def test_health_and_metrics(running: Running) -> None:
    assert running.client.get("/healthz").json() == {"status": "ok"}
    ready = running.client.get("/readyz").json()
    assert ready["partners"] == 8
    running.client.get("/v1/partners", headers=running.headers("viewer"))
    metrics = running.client.get("/metrics").text
    assert 'partnermatch_http_requests_total{method="GET",route="/v1/partners",status="200"}' in metrics
    assert "partnermatch_index_documents 8.0" in metrics
