"""Signing in to the console as a test client does: through the form, with its CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def sign_in(client: TestClient, key: str) -> str:
    """Sign in through the form; the CSRF token of the session's pages."""
    page = client.get("/login")
    answer = client.post("/login", data={"api_key": key, "csrf": csrf_of(page.text)})
    assert answer.status_code == 200 and answer.url.path == "/"
    return csrf_of(answer.text)
