"""`partnermatch console-bench`: how long the console's search page takes to answer a question it
has never seen, server-side, over the configured catalog (the app in process, real engine)."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Annotated

import typer
from fastapi.testclient import TestClient

from scripts.runtime import open_runtime
from service.app import create_app
from service.auth.keys import create_key, revoke_key
from service.settings import Settings


def console_bench(
    intents: Annotated[Path, typer.Option(help="JSON lines with `ja` and `en` questions")] = Path(
        "../shared/eval/dev-intents.jsonl"),
) -> None:
    """Ask every intent's Japanese and English question once through GET /search (each new to
    the process: the result cache cannot answer it) and print p50, p95 and the slowest."""
    questions = [q for line in intents.read_text().splitlines() if line.strip()
                 for q in (json.loads(line)["ja"], json.loads(line)["en"])]
    runtime = open_runtime()
    with runtime.transaction() as session:
        row, key = create_key(session, "console-bench", "pm")
    try:
        with TestClient(create_app(Settings())) as client:
            _sign_in(client, key)
            client.get("/search", params={"q": "warm-up question"})
            took = [_timed(client, q) for q in questions]
    finally:
        with runtime.transaction() as session:
            revoke_key(session, row.id)
    took.sort()
    typer.echo(f"{len(took)} new questions over GET /search: p50 {statistics.median(took):.0f} ms, "
               f"p95 {took[int(len(took) * 0.95) - 1]:.0f} ms, max {took[-1]:.0f} ms")


def _sign_in(client: TestClient, key: str) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"api_key": key, "csrf": token})


def _timed(client: TestClient, question: str) -> float:
    started = time.perf_counter()
    answer = client.get("/search", params={"q": question})
    answer.raise_for_status()
    return (time.perf_counter() - started) * 1000
