"""Input as people in Japan type it is read; what can't be read says the form expected, in the
caller's language; every error has the same shape."""

from __future__ import annotations

from datetime import date

import pytest

from service.http.forms import DayInput, YenInput
from tests.helpers.service import Running


@pytest.mark.parametrize("typed", ["５００００", "50,000", "５０，０００円", "¥50,000", 50000])
def test_amounts_of_yen_are_read(typed: object) -> None:
    from pydantic import TypeAdapter

    assert TypeAdapter(YenInput).validate_python(typed) == 50_000


@pytest.mark.parametrize("typed", ["2026-12-01", "2026/12/01", "2026年12月1日", "２０２６－１２－０１",
                                   "２０２６年１２月１日", "2026.12.1"])
def test_dates_are_read(typed: str) -> None:
    from pydantic import TypeAdapter

    assert TypeAdapter(DayInput).validate_python(typed) == date(2026, 12, 1)


def test_a_manager_types_revenue_and_dates_in_japanese(running: Running) -> None:
    manager = running.headers("partner_manager")
    asked = running.client.post("/v1/recommendations", json={"query": "定期購入を入れたい"},
                                headers=manager).json()
    intro = running.client.post(f"/v1/recommendations/{asked['request_id']}/feedback",
                                json={"partner_id": asked["candidates"][0]["partner"]["id"],
                                      "verdict": "adopted"}, headers=manager).json()
    patched = running.client.patch(
        f"/v1/introductions/{intro['introduction_id']}", headers=manager,
        json={"status": "live", "live_on": "２０２７年１月１５日", "revenue": "５０，０００円"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["live_on"], patched.json()["revenue"]) == ("2027-01-15", 50_000)
    listed = running.client.get("/v1/introductions", params={"from": "2000/01/01"}, headers=manager)
    assert listed.status_code == 200 and listed.json()["total"] == 1


def test_refused_input_says_the_form_expected_in_the_callers_language(running: Running) -> None:
    manager = running.headers("partner_manager")
    url = "/v1/introductions?from=yesterday"
    ja = running.client.get(url, headers={**manager, "Accept-Language": "ja,en;q=0.8"}).json()
    en = running.client.get(url, headers=manager).json()
    assert ja["error"] == en["error"] == "validation_error"
    assert ja["fields"] == [{"field": "from", "message": ja["fields"][0]["message"]}]
    assert "YYYY-MM-DD で入力してください" in ja["detail"] and "YYYY-MM-DD" in en["detail"]
    assert "yesterday" not in ja["detail"] + en["detail"]  # never the input itself


def test_every_error_has_the_same_shape(running: Running) -> None:
    shapes = {
        running.client.get("/v1/partners").status_code: running.client.get("/v1/partners").json(),
        404: running.client.get("/v1/partners/nope", headers=running.headers("pm")).json(),
        422: running.client.get("/v1/partners?limit=0", headers=running.headers("pm")).json(),
    }
    for answer in shapes.values():
        assert set(answer) == {"error", "detail", "fields", "request_id"}
        assert isinstance(answer["detail"], str) and isinstance(answer["fields"], list)
