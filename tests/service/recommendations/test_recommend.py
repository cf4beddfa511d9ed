"""What a recommendation says of each candidate."""

from __future__ import annotations

from tests.helpers.service import SHARE_CANARY, Running


def test_a_paused_partner_is_said_to_be_paused(running: Running) -> None:
    for query, mark in (("ポイントと会員ランクを導入したい", "（提携休止中）"),
                        ("loyalty points and member tiers", "(partnership paused)")):
        answer = running.client.post("/v1/recommendations", json={"query": query, "top_k": 8},
                                     headers=running.headers("pm")).json()
        reasons = {c["partner"]["name"]: c["why"] for c in answer["candidates"]}
        assert reasons["Point Club"].endswith(mark), reasons["Point Club"]
        assert not any(why.endswith(mark) for name, why in reasons.items() if name != "Point Club")
        assert "「導入」" not in reasons["Point Club"]


def test_similar_partners_leave_the_partner_out_and_show_no_terms(running: Running) -> None:
    konbini = running.ids["t-konbini"]
    answer = running.client.get(f"/v1/partners/{konbini}/similar", params={"top_k": 3},
                                headers=running.headers("viewer"))
    assert answer.status_code == 200
    similar = answer.json()
    assert [s["rank"] for s in similar] == [1, 2, 3]
    assert konbini not in [s["partner"]["id"] for s in similar]
    assert similar[0]["score"] >= similar[1]["score"] >= similar[2]["score"] > 0
    assert "revenue_share_terms" not in answer.text and SHARE_CANARY not in answer.text
    manager = running.headers("partner_manager")
    archived = running.ids["t-line"]
    assert running.client.delete(f"/v1/partners/{archived}", headers=manager).status_code == 200
    assert running.client.get(f"/v1/partners/{archived}/similar", headers=manager).json() == []
    others = running.client.get(f"/v1/partners/{konbini}/similar", params={"top_k": 20}, headers=manager)
    assert archived not in [s["partner"]["id"] for s in others.json()]
    missing = running.client.get("/v1/partners/nope/similar", headers=manager)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
