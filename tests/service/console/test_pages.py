"""The console's pages over the seeded catalog: sign-in, CSRF, what each role sees, and a PM's
verdict reaching a manager's board and the KPIs through the same domain functions as the API."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from catalog.tables import RecommendationRequest
from service.console import manage
from tests.helpers.console import csrf_of, sign_in
from tests.helpers.service import CANARY, SHARE_CANARY, TERMS_CANARY, Running

SECRETS = (CANARY, TERMS_CANARY, SHARE_CANARY)


def test_every_page_needs_a_session(running: Running) -> None:
    for path in ("/", "/search?q=定期購入", "/introductions", "/kpis", f"/partners/{running.ids['t-sub']}"):
        answer = running.client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_a_wrong_key_is_refused(running: Running) -> None:
    client = running.client
    page = client.get("/login")
    wrong = client.post("/login", data={"api_key": "pm_nope", "csrf": csrf_of(page.text)})
    assert wrong.url.path == "/login" and wrong.status_code == 401
    page = client.get("/login")
    answer = client.post("/login", data={"api_key": running.keys["pm"], "csrf": csrf_of(page.text)},
                         follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert "pm_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age=43200" in cookie and "Secure" not in cookie
    tampered = client.cookies["pm_session"][:-4] + "AAAA"
    client.cookies.clear()
    client.cookies.set("pm_session", tampered)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(running: Running) -> None:
    client = running.client
    assert client.post("/login", data={"api_key": running.keys["pm"]}).status_code == 403
    sign_in(client, running.keys["partner_manager"])
    partner = running.ids["t-konbini"]
    for data in ({}, {"csrf": "forged"}):
        answer = client.post(f"/partners/{partner}/notes", data={"kind": "meeting", "body": "x", **data})
        assert answer.status_code == 403
        assert "このフォームは送信できませんでした" in answer.text  # a page, in the user's language
    assert "x" not in [n for n in client.get(f"/partners/{partner}").text.split("<p>")]


def test_japanese_by_default_english_on_request(running: Running) -> None:
    client = running.client
    sign_in(client, running.keys["pm"])
    assert "お客様のご要望は？" in client.get("/").text
    english = client.get("/?lang=en")
    assert "What does the client need?" in english.text and 'lang="en"' in english.text
    assert "What does the client need?" in client.get("/").text  # the switch sticks
    assert "お客様のご要望は？" in client.get("/?lang=ja").text
    # The switch keeps the page as it is: a search stays the same search
    search = client.get("/search", params={"q": "定期購入", "status": "active"}).text
    assert 'href="/search?q=%E5%AE%9A%E6%9C%9F%E8%B3%BC%E5%85%A5&amp;status=active&amp;lang=en"' in search


@pytest.mark.parametrize("role", ["viewer", "pm"])
def test_pages_below_manager_never_show_terms_or_confidential_notes(running: Running, role: str) -> None:
    client = running.client
    sign_in(client, running.keys[role])
    pages = [client.get("/search?q=定期購入を入れたい"), client.get("/search?q=subscriptions"),
             client.get(f"/partners/{running.ids['t-sub']}")]
    for page in pages:
        assert page.status_code == 200
        for secret in SECRETS:
            assert secret not in page.text
    assert "Teiki Subscriptions" in pages[0].text
    for path in ("/introductions", "/kpis"):
        assert client.get(path).status_code == 403


def test_managers_see_terms_and_confidential_notes(running: Running) -> None:
    client = running.client
    sign_in(client, running.keys["partner_manager"])
    page = client.get(f"/partners/{running.ids['t-sub']}").text
    for secret in SECRETS:
        assert secret in page


def test_candidates_in_the_apis_order(running: Running) -> None:
    query = "コンビニ決済と後払いに対応したい"
    api = running.client.post("/v1/recommendations", json={"query": query, "top_k": 5},
                              headers=running.headers("pm")).json()
    sign_in(running.client, running.keys["pm"])
    page = running.client.get("/search", params={"q": query}).text
    shown = re.findall(r'data-partner-id="([^"]+)"', page)
    assert shown == [c["partner"]["id"] for c in api["candidates"]]
    assert query in running.client.get("/").text  # among the recent questions


def test_adopted_reaches_the_board_then_revenue_reaches_the_kpis(running: Running) -> None:
    client = running.client
    csrf = sign_in(client, running.keys["pm"])
    page = client.get("/search", params={"q": "定期購入を入れたい"}).text
    request_id = re.search(r'name="request_id" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    partner = running.ids["t-sub"]
    recorded = client.post("/feedback", data={"csrf": csrf, "request_id": request_id,
                                              "partner_id": partner, "verdict": "adopted"})
    assert recorded.status_code == 200 and "採用" in recorded.text
    client.cookies.clear()
    csrf = sign_in(client, running.keys["partner_manager"])
    board = client.get("/introductions").text
    intro = re.search(r'data-introduction-id="([^"]+)"', board).group(1)  # type: ignore[union-attr]
    answer = client.post(f"/introductions/{intro}", data={"csrf": csrf, "status": "live",
                                                          "revenue": "120000",
                                                          "revenue_period": "one_off"})
    assert answer.status_code == 200
    api = client.get(f"/v1/introductions/{intro}", headers=running.headers("partner_manager")).json()
    assert api["status"] == "live" and api["revenue"] == 120000
    assert "¥120,000" in client.get("/kpis").text
    csv = client.get("/kpis/report.csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    assert "120000" in csv.text and SHARE_CANARY not in csv.text


def test_admin_creates_and_revokes_a_key_and_reads_the_audit_log(running: Running) -> None:
    client = running.client
    csrf = sign_in(client, running.keys["admin"])
    created = client.post("/admin/keys", data={"csrf": csrf, "name": "new-pm", "role": "pm"})
    key = re.search(r'<code id="new-key">([^<]+)</code>', created.text).group(1)  # type: ignore[union-attr]
    assert client.get("/v1/partners", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    admin = client.get("/admin").text
    key_id = re.findall(r'action="/admin/keys/([^/]+)/revoke"', admin)[-1]
    assert client.post(f"/admin/keys/{key_id}/revoke", data={"csrf": csrf}).status_code == 200
    assert "無効化済み" in client.get("/admin").text  # the API follows within the key cache's seconds
    trail = client.get("/admin", params={"entity": "api_key"}).text
    assert trail.count("test-admin") >= 2 and "revoke" in trail and "new-pm" in trail
    assert client.get("/admin", params={"entity": "note"}).text.count("api_key") == 0


def test_a_revoked_key_ends_its_console_sessions(running: Running) -> None:
    client = running.client
    sign_in(client, running.keys["pm"])
    assert client.get("/", follow_redirects=False).status_code == 200
    admin = TestClient(running.app)
    csrf = sign_in(admin, running.keys["admin"])
    pm_id = re.search(r'action="/admin/keys/([^/]+)/revoke"[^<]*<input[^>]*><button[^>]*test-pm',
                      admin.get("/admin").text)
    assert pm_id is not None
    admin.post(f"/admin/keys/{pm_id.group(1)}/revoke", data={"csrf": csrf})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_roles_of_the_managers_pages(running: Running) -> None:
    client = running.client
    sign_in(client, running.keys["pm"])
    assert client.get("/admin").status_code == 403
    assert client.get("/gaps").status_code == 403
    assert client.get("/partners").status_code == 200
    client.cookies.clear()
    csrf = sign_in(client, running.keys["partner_manager"])
    assert client.get("/admin").status_code == 403
    assert client.get("/gaps").status_code == 200
    made = client.post("/partners", data={"csrf": csrf, "name": "Furusato Gift", "kind": "app",
                                          "status": "prospect"})
    assert made.status_code == 200 and "Furusato Gift" in made.text
    assert "Furusato Gift" in client.get("/partners", params={"q": "Furusato"}).text


def test_a_manager_edits_status_terms_and_contacts(running: Running) -> None:
    client = running.client
    csrf = sign_in(client, running.keys["partner_manager"])
    partner = running.ids["t-reviews"]
    client.post(f"/partners/{partner}", data={"csrf": csrf, "status": "active",
                                              "revenue_share_terms": "15% of fees"})
    client.post(f"/partners/{partner}/contacts", data={"csrf": csrf, "name": "Sato Hanako",
                                                       "email": "sato@example.com"})
    api = client.get(f"/v1/partners/{partner}", headers=running.headers("partner_manager")).json()
    assert api["status"] == "active" and api["revenue_share_terms"] == "15% of fees"
    assert "Sato Hanako" in client.get(f"/partners/{partner}").text
    client.cookies.clear()
    sign_in(client, running.keys["pm"])
    page = client.get(f"/partners/{partner}").text
    assert "15% of fees" not in page and 'action="/partners/' not in page


def test_a_csv_import_is_previewed_then_committed(running: Running) -> None:
    client = running.client
    csrf = sign_in(client, running.keys["partner_manager"])
    text = "external_id,name,kind,status\ncsv-1,Gift Wrap Pro,app,prospect\ncsv-2,Bad Kind,nonsense,active\n"
    preview = client.post("/partners/import", data={"csrf": csrf},
                          files={"partners_file": ("partners.csv", text.encode(), "text/csv")})
    assert preview.status_code == 422 and "partners.csv:3" in preview.text  # refused as a whole
    good = text.splitlines()[:2]
    preview = client.post("/partners/import", data={"csrf": csrf},
                          files={"partners_file": ("partners.csv", "\n".join(good).encode(), "text/csv")})
    assert re.search(r'data-count="created">1<', preview.text)
    assert "Gift Wrap Pro" not in client.get("/partners", params={"q": "Gift"}).text  # a dry run
    done = client.post("/partners/import", data={"csrf": csrf, "partners_text": "\n".join(good),
                                                 "confirm": "true"})
    assert re.search(r'data-count="created">1<', done.text)
    assert "Gift Wrap Pro" in client.get("/partners", params={"q": "Gift"}).text


def test_the_partner_page_links_similar_partners(running: Running) -> None:
    client = running.client
    sign_in(client, running.keys["viewer"])
    konbini = running.ids["t-konbini"]
    page = client.get(f"/partners/{konbini}").text
    section = page[page.index('id="similar"'):]
    linked = re.findall(r'<a href="/partners/([^"]+)"', section)
    api = client.get(f"/v1/partners/{konbini}/similar", headers=running.headers("viewer")).json()
    assert linked == [s["partner"]["id"] for s in api] and len(linked) == 5
    assert konbini not in linked and "似ているパートナー" in page


def test_a_manager_edits_and_deletes_notes_and_contacts(running: Running) -> None:
    client, api = running.client, running.headers("partner_manager")
    csrf = sign_in(client, running.keys["partner_manager"])
    partner = running.ids["t-sub"]
    note = client.get(f"/v1/partners/{partner}/notes", headers=api).json()[-1]
    edited = {"kind": "review", "body": "Onboarding now takes one week.", "date": "2026-05-02",
              "terms": ""}
    assert client.post(f"/partners/{partner}/notes/{note['id']}", data=edited).status_code == 403
    answer = client.post(f"/partners/{partner}/notes/{note['id']}", data={"csrf": csrf, **edited})
    assert answer.status_code == 200 and "Onboarding now takes one week." in answer.text
    after = next(n for n in client.get(f"/v1/partners/{partner}/notes", headers=api).json()
                 if n["id"] == note["id"])
    assert (after["kind"], after["date"], after["terms"], after["confidential"]) == (
        "review", "2026-05-02", None, False)
    confirm = client.get(f"/partners/{partner}/notes/{note['id']}/delete")
    assert confirm.status_code == 200 and "この交渉メモを削除しますか？" in confirm.text
    assert "Onboarding now takes one week." in confirm.text
    assert client.get(f"/v1/partners/{partner}/notes", headers=api).json()[-1]["id"] == note["id"]
    client.post(f"/partners/{partner}/notes/{note['id']}/delete", data={"csrf": csrf})
    assert note["id"] not in [n["id"] for n in
                              client.get(f"/v1/partners/{partner}/notes", headers=api).json()]

    client.post(f"/partners/{partner}/contacts", data={"csrf": csrf, "name": "Sato", "role": "CS"})
    contact = client.get(f"/v1/partners/{partner}/contacts", headers=api).json()[0]
    client.post(f"/partners/{partner}/contacts/{contact['id']}",
                data={"csrf": csrf, "name": "Sato Hanako", "role": "", "email": "h@example.com"})
    after = client.get(f"/v1/partners/{partner}/contacts", headers=api).json()[0]
    assert (after["name"], after["role"], after["email"]) == ("Sato Hanako", None, "h@example.com")
    assert "この担当者を削除しますか？" in client.get(
        f"/partners/{partner}/contacts/{contact['id']}/delete").text
    client.post(f"/partners/{partner}/contacts/{contact['id']}/delete", data={"csrf": csrf})
    assert client.get(f"/v1/partners/{partner}/contacts", headers=api).json() == []
    other = running.ids["t-konbini"]  # a note is edited on its own partner's page only
    kept = client.get(f"/v1/partners/{partner}/notes", headers=api).json()[0]
    assert client.get(f"/partners/{other}/notes/{kept['id']}/delete").status_code == 404


def test_a_pm_cannot_edit_or_delete_notes(running: Running) -> None:
    client = running.client
    csrf = sign_in(client, running.keys["pm"])
    partner = running.ids["t-sub"]
    note = client.get(f"/v1/partners/{partner}/notes", headers=running.headers("pm")).json()[0]
    page = client.get(f"/partners/{partner}").text
    assert "/delete" not in page and f'/notes/{note["id"]}"' not in page
    assert client.get(f"/partners/{partner}/notes/{note['id']}/delete").status_code == 403
    answer = client.post(f"/partners/{partner}/notes/{note['id']}/delete", data={"csrf": csrf})
    assert answer.status_code == 403
    assert len(client.get(f"/v1/partners/{partner}/notes", headers=running.headers("pm")).json()) == 1


def test_the_catalog_sorts_and_keeps_the_sort_in_its_links(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, api = running.client, running.headers("partner_manager")
    for external_id, rating in (("t-konbini", 4.8), ("t-reviews", 3.1), ("t-line", 4.2)):
        client.patch(f"/v1/partners/{running.ids[external_id]}", json={"rating": rating}, headers=api)
    by_api = client.get("/v1/partners", params={"sort": "-rating", "limit": 4}, headers=api).json()
    assert [p["name"] for p in by_api["items"]] == [
        "Konbini Checkout", "Line Bridge", "Voice Reviews", "Kikan Connect"]  # then by name
    assert client.get("/v1/partners", params={"sort": "price"}, headers=api).status_code == 422
    statuses = [p["status"] for p in client.get("/v1/partners", params={"sort": "status"},
                                                 headers=api).json()["items"]]
    assert statuses == sorted(statuses, key=["prospect", "negotiating", "active", "paused"].index)

    monkeypatch.setattr(manage, "PAGE", 2)
    sign_in(client, running.keys["pm"])
    page = client.get("/partners", params={"sort": "-rating", "kind": "app"}).text
    names = re.findall(r'<td><a href="/partners/[^"]+">([^<]+)</a>', page)
    assert names == ["Konbini Checkout", "Line Bridge"]
    assert 'aria-sort="descending"' in page and '<option value="-rating" selected>' in page
    following = re.search(r'href="(/partners\?[^"]+)" rel="next"', page).group(1)  # type: ignore[union-attr]
    assert following.replace("&amp;", "&") == "/partners?kind=app&sort=-rating&page=2"
    header = re.search(r'href="(/partners\?[^"]+)">評価', page).group(1)  # type: ignore[union-attr]
    assert header.replace("&amp;", "&") == "/partners?kind=app&sort=rating"  # turned round
    second = client.get(following.replace("&amp;", "&")).text
    assert re.findall(r'<td><a href="/partners/[^"]+">([^<]+)</a>', second) == [
        "Voice Reviews", "Lingua Store"]  # unrated ones last, by name
    assert client.get("/partners", params={"sort": "nonsense"}).status_code == 200  # by name


def adopted_introduction(running: Running) -> str:
    """A PM's verdict through the API: an adopted introduction of Teiki Subscriptions."""
    pm = running.headers("pm")
    answer = running.client.post("/v1/recommendations", json={"query": "定期購入を入れたい"},
                                 headers=pm).json()
    return running.client.post(f"/v1/recommendations/{answer['request_id']}/feedback", headers=pm,
                               json={"partner_id": running.ids["t-sub"], "verdict": "adopted"}
                               ).json()["introduction_id"]


def test_errors_of_pages_are_pages_in_the_users_language(running: Running) -> None:
    client = running.client
    intro = adopted_introduction(running)
    csrf = sign_in(client, running.keys["partner_manager"])
    board = f"{client.base_url}/introductions"
    refused = client.post(f"/introductions/{intro}", data={"csrf": csrf, "status": "proposed"},
                          headers={"referer": board})
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("text/html")
    assert "この操作はできません" in refused.text and "not proposed" in refused.text
    assert f'href="{board}"' in refused.text  # the way back
    assert 'id="typed"' not in refused.text  # nothing typed to offer again
    missing = client.get("/partners/no-such-partner?lang=en")
    assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.text
    assert 'href="/"' in missing.text  # no page of the app before it: the way back is home
    bad_page = client.get("/partners", params={"page": "0"})
    assert bad_page.status_code == 422 and "Please check what you entered" in bad_page.text
    api = client.get("/v1/partners/no-such-partner", headers=running.headers("partner_manager"))
    assert api.status_code == 404 and api.json()["error"] == "not_found"  # the API answers JSON


def test_a_refused_form_offers_what_was_typed_again(running: Running) -> None:
    client = running.client
    csrf = sign_in(client, running.keys["partner_manager"])
    partner = running.ids["t-reviews"]
    typed = {"name": "佐藤 花子", "role": "カスタマーサクセス", "email": "sato-at-example"}
    refused = client.post(f"/partners/{partner}/contacts", data={"csrf": csrf, **typed})
    assert refused.status_code == 422 and "入力内容を確認してください" in refused.text
    assert "<strong>メール</strong>" in refused.text  # the field, named in Japanese
    form = refused.text[refused.text.index('id="typed"'):]
    assert f'action="/partners/{partner}/contacts"' in refused.text
    for value in typed.values():
        assert f'value="{value}"' in form
    again = client.post(f"/partners/{partner}/contacts",
                        data={"csrf": csrf_of(form), **typed, "email": "sato@example.com"})
    assert again.status_code == 200 and "佐藤 花子" in again.text
    long_note = client.post(f"/partners/{partner}/notes",
                            data={"csrf": csrf, "kind": "meeting", "body": "x" * 20_001,
                                  "confidential": "true"})
    assert long_note.status_code == 422 and '<textarea id="typed-body"' in long_note.text
    assert 'name="confidential" value="true" checked' in long_note.text


def recorded_requests(running: Running) -> int:
    with running.sessions() as session:
        return session.scalar(select(func.count()).select_from(RecommendationRequest)) or 0


def test_back_to_search_shows_the_same_request_without_recording_another(running: Running) -> None:
    client = running.client
    csrf = sign_in(client, running.keys["pm"])
    page = client.get("/search", params={"q": "定期購入を入れたい", "status": "active"}).text
    request_id = re.search(r'name="request_id" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    order = re.findall(r'data-partner-id="([^"]+)"', page)
    link = re.search(r'<h3><a href="(/partners/[^"]+)"', page).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    partner = client.get(link).text
    back = re.search(r'<p class="back"><a href="([^"]+)"', partner).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    query = urlencode({"q": "定期購入を入れたい", "status": "active", "request": request_id})
    assert back == f"/search?{query}"
    count = recorded_requests(running)
    again = client.get(back).text
    assert recorded_requests(running) == count  # shown again, not asked again
    assert re.findall(r'data-partner-id="([^"]+)"', again) == order
    assert f'name="request_id" value="{request_id}"' in again
    assert '<option value="active" selected>' in again  # the filters kept
    verdict = client.post("/feedback", data={"csrf": csrf, "request_id": request_id,
                                             "partner_id": order[0], "verdict": "proposed",
                                             "back": back})
    assert verdict.status_code == 200 and f'href="{back.replace("&", "&amp;")}"' in verdict.text
    for forged in ("https://elsewhere.example/", "//elsewhere.example/search?q=x"):
        assert 'class="back"' not in client.get(link.split("?")[0], params={"back": forged}).text
    client.cookies.clear()
    sign_in(client, running.keys["partner_manager"])  # another caller's request is asked anew
    client.get(back)
    assert recorded_requests(running) == count + 1
