"""Servers for the tests, on loopback: an ASGI app served by uvicorn in a thread, or real
`partnermatch` processes, started, waited for and killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

REPO = Path(__file__).resolve().parents[2]


def partnermatch(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """The real command, as `partnermatch ARGS`, in a session of its own (killed as a group)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "scripts.cli", *args], cwd=REPO, env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and any workers it started, then reap it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before it was ready")
        try:
            answer = httpx.get(f"{url}/readyz", timeout=5)
            if answer.status_code == 200:
                return answer.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server was not ready in time")


@contextmanager
def served(env: dict[str, str], log: Path, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`partnermatch serve` on a free loopback port, until it answers /readyz; killed after."""
    port = free_port()
    process = partnermatch("serve", "--host", "127.0.0.1", "--port", str(port),
                           "--workers", str(workers), env=env, log=log)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, process)
        yield url, process
    finally:
        kill(process)


def command_env(url: str, index_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "PARTNERMATCH_DATABASE_URL": url,
            "PARTNERMATCH_INDEX_DIR": str(index_dir), "PARTNERMATCH_MULTILINGUAL_MODEL": "none",
            "PARTNERMATCH_RATE_LIMIT_PER_MINUTE": "1000000", "PARTNERMATCH_INDEX_POLL_SECONDS": "0.5",
            "PARTNERMATCH_INDEX_SAVE_SECONDS": "0",  # save on every poll: more kills mid-save
            "PARTNERMATCH_LOG_LEVEL": "WARNING", **extra}


def catalog_records(prefix: str, count: int) -> list[dict[str, Any]]:
    """Short listings (quick to embed) in the project's own catalog format."""
    features = ["subscriptions", "reviews", "payments", "delivery", "loyalty", "translation"]
    return [{"external_id": f"{prefix}-{i:04d}", "name": f"{prefix.title()} Partner {i}",
             "kind": "app", "status": "active", "categories": [features[i % len(features)]],
             "description_en": f"Listing {i}: {features[i % 6]} and {features[(i + 1) % 6]}."}
            for i in range(count)]


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port, in a thread; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
