"""The API docs work offline: every file their pages ask for is served by the app itself."""

from __future__ import annotations

import re

from tests.helpers.service import Running


def test_docs_pages_load_only_the_apps_own_files(running: Running) -> None:
    for page in ("/docs", "/redoc"):
        html = running.client.get(page)
        assert html.status_code == 200, page
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert assets and all(asset.startswith("/") for asset in assets), (page, assets)
        for asset in assets:
            assert running.client.get(asset).status_code == 200, asset
        assert "openapi.json" in html.text and "cdn" not in html.text.lower()
    assert running.client.get("/openapi.json").json()["info"]["title"] == "partnermatch"
