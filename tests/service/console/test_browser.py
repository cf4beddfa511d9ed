"""The console in a real browser (Debian's headless Chromium driven by Playwright): a PM asks in
Japanese and adopts a candidate, a partnership manager takes it live with its revenue and sees it
in the KPIs; only the app's origin is ever requested; axe-core finds no serious violation."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from catalog.db import open_database, session_factory, upgrade
from service.app import create_app
from service.index.matcher import Matcher
from service.settings import Settings
from tests.helpers.service import CANARY, SHARE_CANARY, TERMS_CANARY, seed

playwright = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
QUERY = "定期購入を入れたい"
# Set to a folder (docs/screens) to keep each page's screenshot at 1280 and 375 px.
SCREENS = os.environ.get("PARTNERMATCH_CONSOLE_SCREENS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path, matcher_factory: Callable[[Settings, Any], Matcher]) -> Iterator[dict[str, Any]]:
    """The app on a loopback port over the seeded catalog (SQLite), with a key for every role."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    database = open_database(url)
    upgrade(database)
    keys, ids = seed(session_factory(database))
    settings = Settings(database_url=url, index_dir=tmp_path / "index", index_poll_seconds=0.2)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, matcher_factory), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the console did not start"
    yield {"base": f"http://127.0.0.1:{port}", "keys": keys, "ids": ids}
    server.should_exit = True
    thread.join(timeout=10)
    database.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (.ci/run does)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Visit:
    """One signed-in person's browser: every request it makes is recorded, every page checked."""

    def __init__(self, browser: Any, base: str, key: str | None) -> None:
        self.base = base
        self.context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.goto(f"{base}/login")
        if key is None:  # stays on the sign-in page
            return
        self.page.get_by_label("APIキー").fill(key)
        self.page.get_by_role("button", name="ログイン").click()
        self.page.wait_for_url(f"{base}/")

    def open(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def check(self, name: str, screenshot: bool = True) -> str:
        """No serious accessibility violation on the page; its screenshots; its HTML."""
        violations = axe_playwright.Axe().run(self.page).response["violations"]
        serious = [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: {serious}"
        if SCREENS and screenshot:
            folder = Path(SCREENS)
            folder.mkdir(parents=True, exist_ok=True)
            for width in (1280, 375):
                self.page.set_viewport_size({"width": width, "height": 900})
                self.page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
            self.page.set_viewport_size({"width": 1280, "height": 900})
        return self.page.content()

    def close(self) -> None:
        assert self.requests and all(u.startswith(self.base + "/") for u in self.requests), [
            u for u in self.requests if not u.startswith(self.base + "/")]
        self.context.close()


def test_a_pm_adopts_and_a_manager_takes_it_live(served: dict[str, Any], browser: Any) -> None:
    base, keys, ids = served["base"], served["keys"], served["ids"]
    signing_in = Visit(browser, base, None)
    signing_in.check("login")
    signing_in.close()

    pm = Visit(browser, base, keys["pm"])
    pm.open("/search?q=ふるさと納税の返礼品を管理したい")  # a need no partner covers: a gap
    page = pm.open("/")
    page.get_by_label("お客様のご要望は？").fill(QUERY)
    page.get_by_role("button", name="探す").click()
    page.wait_for_selector(".candidate")
    shown = [c.get_attribute("data-partner-id") for c in page.query_selector_all(".candidate")]
    api = page.request.post(f"{base}/v1/recommendations", data={"query": QUERY, "top_k": 5},
                            headers={"Authorization": f"Bearer {keys['pm']}"}).json()
    assert shown == [c["partner"]["id"] for c in api["candidates"]]
    pages = [pm.check("search")]
    pm.open(f"/partners/{ids['t-sub']}")
    pages.append(pm.check("partner-pm"))
    pm.open("/partners")
    pages.append(pm.check("catalog"))
    pm.open(f"/search?q={QUERY}")
    card = page.locator(f'.candidate[data-partner-id="{ids["t-sub"]}"]')
    card.get_by_role("button", name="採用").click()
    page.wait_for_selector("[role=status]")
    pages.append(pm.check("recorded"))
    for html in pages:
        for secret in (CANARY, TERMS_CANARY, SHARE_CANARY):
            assert secret not in html
    # a post without the token is refused, from the browser too
    refused = page.request.post(f"{base}/feedback", form={"request_id": "x", "partner_id": "y",
                                                          "verdict": "adopted"})
    assert refused.status == 403
    pm.requests = [u for u in pm.requests if "/v1/" not in u and u != f"{base}/feedback"]
    pm.close()

    manager = Visit(browser, base, keys["partner_manager"])
    board = manager.open("/introductions")
    card = board.locator(".column", has=board.locator("#col-adopted")).locator(".intro").first
    assert "Teiki Subscriptions" in card.inner_text()
    manager.check("introductions")
    card.get_by_label("次のステータス").select_option("live")
    card.get_by_label("売上 (¥)").fill("150000")
    card.get_by_role("button", name="保存").click()
    board.wait_for_load_state()
    live = board.locator(".column", has=board.locator("#col-live"))
    assert "¥150,000" in live.inner_text()
    kpis = manager.open("/kpis")
    assert re.sub(r"\s", "", kpis.locator("#kpi-revenue").inner_text()) == "¥150,000"
    manager.check("kpis")
    manager.open(f"/partners/{ids['t-sub']}")
    assert CANARY in manager.check("partner-manager")
    manager.open("/gaps")
    manager.check("gaps")
    manager.open("/partners")
    manager.check("catalog-manager")
    manager.close()

    admin = Visit(browser, base, keys["admin"])
    admin.open("/admin")
    assert "test-pm" in admin.check("admin")
    admin.close()


def test_a_partner_page_leads_to_similar_partners(served: dict[str, Any], browser: Any) -> None:
    base, keys, ids = served["base"], served["keys"], served["ids"]
    viewer = Visit(browser, base, keys["viewer"])
    page = viewer.open(f"/partners/{ids['t-konbini']}")
    cards = page.locator(".similar .card")
    assert cards.count() == 5
    first = cards.first.get_attribute("data-partner-id")
    assert first != ids["t-konbini"]
    cards.first.get_by_role("link").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/partners/{first}")
    viewer.check("partner-similar", screenshot=False)
    viewer.close()


def test_a_manager_edits_then_deletes_a_note_with_the_keyboard(
    served: dict[str, Any], browser: Any
) -> None:
    base, keys, ids = served["base"], served["keys"], served["ids"]
    manager = Visit(browser, base, keys["partner_manager"])
    page = manager.open(f"/partners/{ids['t-sub']}")
    note = page.locator(".timeline > li").last
    note.locator("summary").focus()
    page.keyboard.press("Enter")  # opens the note's form
    note.get_by_label("内容").fill("二回目の打ち合わせで条件を確認")
    manager.check("partner-note-edit", screenshot=False)
    note.get_by_label("内容").focus()
    page.keyboard.press("Tab")  # to the terms, then the checkbox, then save
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "保存"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    note = page.locator(".timeline > li").last
    assert "二回目の打ち合わせで条件を確認" in note.locator("p").first.inner_text()
    note.locator("summary").click()
    note.get_by_role("link", name="削除").click()
    page.wait_for_url(re.compile(r".*/delete$"))
    assert "二回目の打ち合わせで条件を確認" in manager.check("confirm-delete")
    assert page.evaluate("document.activeElement.textContent") == "削除する"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/partners/{ids['t-sub']}#notes")
    assert "二回目の打ち合わせで条件を確認" not in page.content()
    assert page.locator(".timeline > li").count() == 1
    manager.close()


def test_the_catalog_sorts_by_a_header_and_keeps_it_when_filtered(
    served: dict[str, Any], browser: Any
) -> None:
    base, keys = served["base"], served["keys"]
    pm = Visit(browser, base, keys["pm"])
    page = pm.open("/partners")
    page.get_by_role("link", name="ステータス").click()
    page.wait_for_url(re.compile(r".*sort=status$"))
    header = page.locator("th[aria-sort]")
    assert header.get_attribute("aria-sort") == "ascending" and "ステータス" in header.inner_text()
    page.get_by_role("link", name="ステータス").click()  # turned round
    page.wait_for_url(re.compile(r".*sort=-status$"))
    badges = page.locator("tbody .badge").all_inner_texts()
    assert badges[0] == "休止中" and badges[-1] == "候補"
    page.get_by_label("種類").select_option("app")
    page.get_by_role("button", name="表示").click()
    page.wait_for_url(re.compile(r".*kind=app.*"))
    assert "sort=-status" in page.url
    assert page.locator("th[aria-sort]").get_attribute("aria-sort") == "descending"
    pm.check("catalog-sorted", screenshot=False)
    pm.close()


def test_a_move_the_life_cycle_forbids_is_a_page_with_the_way_back(
    served: dict[str, Any], browser: Any
) -> None:
    base, keys, ids = served["base"], served["keys"], served["ids"]
    pm = Visit(browser, base, keys["pm"])
    page = pm.open(f"/search?q={QUERY}")
    card = page.locator(f'.candidate[data-partner-id="{ids["t-sub"]}"]')
    card.get_by_role("button", name="採用").click()
    page.wait_for_selector("[role=status]")
    page.go_back()  # the same results: proposing an adopted introduction is refused
    page.locator(f'.candidate[data-partner-id="{ids["t-sub"]}"]').get_by_role(
        "button", name="提案する").click()
    alert = page.get_by_role("alert")
    assert "この操作はできません" in alert.inner_text()
    html = pm.check("error", screenshot=True)
    assert '"error"' not in html and "request_id" not in alert.inner_text()
    page.get_by_role("link", name="前の画面に戻る").click()
    page.wait_for_selector(".candidate")
    assert QUERY in page.get_by_label("お客様のご要望は？").input_value()
    pm.close()


def test_back_to_search_from_a_partner_page_shows_the_same_results(
    served: dict[str, Any], browser: Any
) -> None:
    base, keys = served["base"], served["keys"]
    pm = Visit(browser, base, keys["pm"])
    page = pm.open("/")
    page.get_by_label("お客様のご要望は？").fill(QUERY)
    page.get_by_role("button", name="探す").click()
    page.wait_for_selector(".candidate")
    request_id = page.locator('input[name="request_id"]').first.input_value()
    shown = [c.get_attribute("data-partner-id") for c in page.query_selector_all(".candidate")]
    page.locator(".candidate h3 a").nth(1).click()
    page.wait_for_url(re.compile(r".*/partners/.*back=.*"))
    pm.check("partner-from-search", screenshot=False)
    page.get_by_role("link", name="検索に戻る").click()
    page.wait_for_selector(".candidate")
    assert page.locator('input[name="request_id"]').first.input_value() == request_id
    assert [c.get_attribute("data-partner-id") for c in page.query_selector_all(".candidate")] == shown
    assert page.get_by_label("お客様のご要望は？").input_value() == QUERY
    pm.close()
