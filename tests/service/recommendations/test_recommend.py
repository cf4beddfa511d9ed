"""What a recommendation says of each candidate."""

from __future__ import annotations

from tests.helpers.service import Running


def test_a_paused_partner_is_said_to_be_paused(running: Running) -> None:
    for query, mark in (("ポイントと会員ランクを導入したい", "（提携休止中）"),
                        ("loyalty points and member tiers", "(partnership paused)")):
        answer = running.client.post("/v1/recommendations", json={"query": query, "top_k": 8},
                                     headers=running.headers("pm")).json()
        reasons = {c["partner"]["name"]: c["why"] for c in answer["candidates"]}
        assert reasons["Point Club"].endswith(mark), reasons["Point Club"]
        assert not any(why.endswith(mark) for name, why in reasons.items() if name != "Point Club")
        assert "「導入」" not in reasons["Point Club"]
