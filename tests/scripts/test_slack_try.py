"""`partnermatch slack-try`: a signed command through the app, its answer printed."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from catalog.db import session_factory
from scripts.cli import app as cli
from service.app import create_app
from service.index.matcher import Matcher
from service.settings import Settings
from tests.helpers.service import seed


def test_a_dry_run_prints_the_blocks_slack_would_show(
    database: Engine, tmp_path: Path, matcher_factory: Callable[[Settings, Any], Matcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(session_factory(database))
    monkeypatch.setenv("PARTNERMATCH_DATABASE_URL", database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PARTNERMATCH_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr("scripts.slack_try.create_app", lambda s: create_app(s, matcher_factory))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        done = CliRunner().invoke(cli, ["slack-try", "定期購入を入れたい"])
    finally:
        root.handlers[:], root.level = handlers, level
    assert done.exit_code == 0, done.output
    printed = done.stdout
    assert "Teiki Subscriptions" in printed and "提案する" in printed and '"blocks"' in printed
    acknowledgement = json.loads(printed[: printed.index("\n}\n") + 2])["acknowledgement"]
    assert acknowledgement["response_type"] == "ephemeral"
