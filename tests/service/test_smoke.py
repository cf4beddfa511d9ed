from tests.helpers.service import Running


def test_ready_and_recommend(running: Running) -> None:
    assert running.client.get("/readyz").status_code == 200
    answer = running.client.post(
        "/v1/recommendations", json={"query": "定期購入を入れたい"}, headers=running.headers("pm")
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["language"] == "ja"
    assert body["candidates"][0]["partner"]["name"] == "Teiki Subscriptions"
