"""One life cycle for every way an introduction moves (feedback from the API and Slack, a
manager's PATCH): what it forbids is a 409 that changes nothing, and KPIs can't be forged."""

from __future__ import annotations

from datetime import date, timedelta

from catalog.tables import Introduction
from service.introductions.lifecycle import move
from tests.helpers.service import Running

MANAGER = "partner_manager"


def ask(running: Running, query: str = "定期購入を入れたい") -> dict:
    answer = running.client.post("/v1/recommendations", json={"query": query, "top_k": 3},
                                 headers=running.headers("pm"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def verdict(running: Running, request_id: str, partner_id: str, value: str):
    return running.client.post(f"/v1/recommendations/{request_id}/feedback",
                                json={"partner_id": partner_id, "verdict": value},
                                headers=running.headers("pm"))


def stored(running: Running, introduction_id: str) -> Introduction:
    with running.sessions() as session:
        intro = session.get(Introduction, introduction_id)
        assert intro is not None
        return intro


def test_feedback_names_a_partner_the_request_returned(running: Running) -> None:
    answer = ask(running)
    shown = {c["partner"]["id"] for c in answer["candidates"]}
    other = next(pid for pid in running.ids.values() if pid not in shown)
    refused = verdict(running, answer["request_id"], other, "adopted")
    assert refused.status_code == 422 and "not a candidate" in refused.json()["detail"]
    kpis = running.client.get("/v1/kpis", headers=running.headers(MANAGER)).json()
    assert kpis["adoptions"] == 0 and kpis["introductions"] == 0


def test_a_verdict_never_moves_an_introduction_back(running: Running) -> None:
    answer = ask(running)
    partner = answer["candidates"][0]["partner"]["id"]
    adopted = verdict(running, answer["request_id"], partner, "adopted").json()
    back = verdict(running, answer["request_id"], partner, "proposed")
    assert back.status_code == 409 and "an adopted introduction can become" in back.json()["detail"]
    assert stored(running, adopted["introduction_id"]).status == "adopted"
    patched = running.client.patch(f"/v1/introductions/{adopted['introduction_id']}",
                                   json={"status": "proposed", "revenue": 9},
                                   headers=running.headers(MANAGER))
    assert patched.status_code == 409
    intro = stored(running, adopted["introduction_id"])
    assert intro.status == "adopted" and intro.revenue is None  # nothing of the refused change


def test_reopening_leaves_no_stale_rejection_or_adoption(running: Running) -> None:
    today = date.today()
    intro = Introduction(partner_id="p", request_text="", status="proposed",
                         proposed_on=today - timedelta(days=60))
    move(intro, "adopted", on=today - timedelta(days=50))
    move(intro, "rejected", on=today - timedelta(days=40))
    move(intro, "proposed", on=today - timedelta(days=30))  # reopened
    assert (intro.rejected_on, intro.adopted_on) == (None, None)
    move(intro, "rejected")
    assert intro.rejected_on == today  # the new rejection, not the one of 40 days ago
    move(intro, "adopted")
    assert (intro.adopted_on, intro.rejected_on) == (today, None)

    # over the API: a rejection reopened by a new verdict is counted once, when it stands
    answer = ask(running)
    partner = answer["candidates"][0]["partner"]["id"]
    rejected = verdict(running, answer["request_id"], partner, "not_a_fit").json()
    running.client.patch(f"/v1/introductions/{rejected['introduction_id']}",
                         json={"rejected_on": str(today - timedelta(days=400))},
                         headers=running.headers(MANAGER))
    again = verdict(running, answer["request_id"], partner, "adopted")
    assert again.status_code == 200 and again.json()["status"] == "adopted"
    kpis = running.client.get("/v1/kpis", headers=running.headers(MANAGER)).json()
    assert (kpis["adoptions"], kpis["rejections"]) == (1, 0)
    assert stored(running, rejected["introduction_id"]).rejected_on is None
