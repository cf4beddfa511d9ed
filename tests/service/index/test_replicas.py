"""Two service processes on one PostgreSQL database, each with its own index: a partner created
through one is recommended by the other (the catalog generation in the database tells it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.helpers.database import fresh_postgres_database

pytestmark = pytest.mark.postgres
CLI = [sys.executable, "-m", "scripts.cli"]
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_catalog(path: Path) -> Path:
    partners = [
        {"external_id": f"r-{i}", "name": name, "kind": "app", "status": "active",
         "description_en": text, "description_ja": ""}
        for i, (name, text) in enumerate([
            ("Teiki", "Subscriptions and recurring orders for repeat customers."),
            ("Konbini Pay", "Convenience store payment for Japanese shoppers."),
            ("Lingua", "Translate the storefront into many languages."),
            ("Otodoke", "Customers choose the delivery date and time at checkout."),
        ])
    ]
    path.write_text(yaml.safe_dump({"source": "replica-test", "partners": partners}))
    return path


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [*CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def two_replicas(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    with fresh_postgres_database() as url:
        env = {**os.environ, "PARTNERMATCH_DATABASE_URL": url,
               "PARTNERMATCH_INDEX_DIR": str(tmp_path / "index-seed"),
               "PARTNERMATCH_INDEX_POLL_SECONDS": "0.5"}
        cli(env, "import", "catalog", str(small_catalog(tmp_path / "catalog.yaml")))
        key = cli(env, "keys", "create", "--role", "partner_manager", "--name", "replicas")
        key = key.strip().splitlines()[-1]
        servers, urls = [], []
        for name in ("a", "b"):
            port = free_port()
            replica_env = {**env, "PARTNERMATCH_INDEX_DIR": str(tmp_path / f"index-{name}")}
            servers.append(subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)], env=replica_env,
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
            urls.append(f"http://127.0.0.1:{port}")
        try:
            for base in urls:
                wait_ready(base)
            yield urls[0], urls[1], key
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)


def wait_ready(base: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{base} never became ready")


def test_partner_created_on_one_replica_is_recommended_by_the_other(
    two_replicas: tuple[str, str, str],
) -> None:
    first, second, key = two_replicas
    headers = {"Authorization": f"Bearer {key}"}
    created = httpx.post(
        f"{first}/v1/partners", headers=headers, timeout=30,
        json={"name": "Noshi Gift Wrap", "kind": "app",
              "description_en": "Japanese noshi paper and gift wrapping for every order."},
    )
    assert created.status_code == 201, created.text
    partner_id = created.json()["id"]
    query = {"query": "noshi gift wrapping paper", "top_k": 3}
    started = time.monotonic()
    top = None
    while time.monotonic() - started < 60:  # a bound for the test, not a performance target
        answer = httpx.post(f"{second}/v1/recommendations", json=query, headers=headers, timeout=30)
        assert answer.status_code == 200
        top = answer.json()["candidates"][0]["partner"]["id"]
        if top == partner_id:
            break
        time.sleep(0.2)
    print(f"seen by the other replica after {time.monotonic() - started:.2f} s")
    assert top == partner_id
    ready = httpx.get(f"{second}/readyz", timeout=5).json()
    assert ready["partners"] == 5
