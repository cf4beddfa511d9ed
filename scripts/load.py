"""`partnermatch load`: a bounded load run against a served API on loopback, with targets.

80% recommendations, 15% reads, 5% writes and feedback, from `--concurrency` client threads
until the stop time (or `--max-requests`); a full reindex in the middle. The requests start on a
fixed schedule, `--rate` per second in all (an open loop, as users arrive), and each latency
counts from its scheduled start, so a server that falls behind shows the wait too; with
`--rate 0` every thread sends its next request as soon as the last is answered (a closed loop:
the most the server can take, with `--concurrency` requests always in flight). Prints the 5xx rate,
p50/p95/p99 per kind of request and the server's memory growth, and exits 1 when a target is
missed. Every loop is bounded: the run stops by itself.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console

from models.progress import Progress, no_progress
from scripts.progress import ProgressBars

QUERIES = (
    "定期購入を入れたい", "コンビニ決済と後払いに対応したい", "商品レビューを写真付きで集めたい",
    "ストアを多言語化したい", "ポイントと会員ランク", "基幹システムと在庫を連携したい",
    "LINEで注文通知を送りたい", "配送日時を指定できるようにしたい", "ギフトラッピング",
    "subscriptions and recurring orders", "konbini payment", "product reviews with photos",
    "translate the storefront", "loyalty program with tiers", "ERP inventory sync",
    "email marketing automation", "SEO optimisation", "B2B wholesale pricing", "pre-orders",
    "upsell and cross-sell at checkout",
)
KINDS = ("recommend", "read", "write")


@dataclass
class LoadConfig:
    base_url: str
    key: str
    seconds: float
    concurrency: int = 8
    reindex_at: float | None = 0.5  # share of the run; None: no reindex
    server_pid: int | None = None
    max_requests: int = 1_000_000
    seed: int = 8
    timeout: float = 60.0
    warmup: float | None = None  # seconds before the memory baseline; default 10% of the run
    reindex_wait: float = 60.0  # after the load, how long to wait for the reindex's answer
    recommend_share: float = 0.80
    read_share: float = 0.15
    rate: float = 40.0  # requests per second in all, on a fixed schedule; 0: a closed loop


@dataclass
class Targets:
    max_5xx_rate: float = 0.001
    p99_ms: dict[str, float] = field(
        default_factory=lambda: {"recommend": 30.0, "read": 500.0, "write": 3000.0}
    )
    max_memory_growth: float = 0.10


@dataclass
class LoadReport:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # requests that got no answer at all (connection errors, timeouts)
    reindex: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, kind: str, status: int | None, seconds: float) -> None:
        with self.lock:
            if status is None:
                self.errors += 1
                return
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies[kind].append(seconds * 1000)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.errors

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500) + self.errors

    def percentiles(self, kind: str) -> dict[str, float]:
        values = sorted(self.latencies[kind])
        if not values:
            return {}
        return {name: round(values[min(len(values) - 1, int(q * len(values)))], 1)
                for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))}

    def summary(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1), "requests": self.requests,
            "per_second": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "no_answer": self.errors,
            "5xx_rate": round(self.server_errors / self.requests, 5) if self.requests else 0.0,
            "latency_ms": {kind: {"count": len(self.latencies[kind]), **self.percentiles(kind)}
                           for kind in KINDS},
            "reindex": self.reindex, "memory": self.memory,
        }

    def misses(self, targets: Targets) -> list[str]:
        """The targets this run missed, in words; empty when all were met."""
        missed = []
        if not self.requests:
            missed.append("no request was made")
        elif self.server_errors / self.requests >= targets.max_5xx_rate:
            missed.append(f"5xx rate {self.server_errors / self.requests:.4%} "
                          f"not under {targets.max_5xx_rate:.2%}")
        if self.statuses.get(429):
            missed.append(f"{self.statuses[429]} answers were rate-limited (429): the run measured "
                          "the limiter; serve with a PARTNERMATCH_RATE_LIMIT_PER_MINUTE above the "
                          "load's rate")
        for kind, limit in targets.p99_ms.items():
            p99 = self.percentiles(kind).get("p99")
            if p99 is not None and p99 > limit:
                missed.append(f"{kind} p99 {p99:.0f} ms over {limit:.0f} ms")
        growth = self.memory.get("growth")
        if growth is not None and growth >= targets.max_memory_growth:
            missed.append(f"memory growth {growth:.1%} not under {targets.max_memory_growth:.0%}")
        if self.reindex and self.reindex.get("status") not in (200, "unfinished"):
            missed.append(f"the reindex answered {self.reindex.get('status')}")
        return missed


class Workload:
    """What the client threads ask for; ids are learnt from the server at the start."""

    def __init__(self, client: httpx.Client, config: LoadConfig) -> None:
        self.client = client
        self.config = config
        self.partner_ids = self._partner_ids()
        self.shown: list[tuple[str, str]] = []  # (request id, its first candidate's partner id)
        self._shown_lock = threading.Lock()

    def _partner_ids(self) -> list[str]:
        answer = self.client.get("/v1/partners", params={"limit": 200})
        answer.raise_for_status()
        ids = [item["id"] for item in answer.json()["items"]]
        if not ids:
            raise typer.BadParameter("the catalog is empty: import partners first")
        return ids

    def step(self, rng: random.Random) -> tuple[str, httpx.Response]:
        draw = rng.random()
        if draw < self.config.recommend_share:
            return "recommend", self._recommend(rng)
        if draw < self.config.recommend_share + self.config.read_share:
            return "read", self._read(rng)
        return "write", self._write(rng)

    def _recommend(self, rng: random.Random) -> httpx.Response:
        body = {"query": rng.choice(QUERIES), "top_k": rng.choice((5, 10))}
        answer = self.client.post("/v1/recommendations", json=body)
        if answer.status_code == 200 and answer.json()["candidates"]:
            shown = (answer.json()["request_id"], answer.json()["candidates"][0]["partner"]["id"])
            with self._shown_lock:
                self.shown.append(shown)
                del self.shown[:-200]
        return answer

    def _read(self, rng: random.Random) -> httpx.Response:
        partner = rng.choice(self.partner_ids)
        path, params = rng.choice((
            ("/v1/partners", {"limit": 20, "offset": rng.randrange(100)}),
            (f"/v1/partners/{partner}", {}),
            (f"/v1/partners/{partner}/notes", {}),
        ))
        return self.client.get(path, params=params)

    def _write(self, rng: random.Random) -> httpx.Response:
        """Feedback on a recommendation made earlier, a negotiation note, or a partner change."""
        with self._shown_lock:
            shown = rng.choice(self.shown) if self.shown else None
        draw = rng.random()
        if shown and draw < 0.4:
            request_id, partner_id = shown
            verdict = rng.choice(("proposed", "adopted", "not_a_fit"))
            return self.client.post(f"/v1/recommendations/{request_id}/feedback",
                                    json={"partner_id": partner_id, "verdict": verdict})
        partner = rng.choice(self.partner_ids)
        if draw < 0.7:
            body = {"kind": rng.choice(("meeting", "proposal", "issue")),
                    "body": f"load test note {rng.random():.6f}: follow-up call about onboarding",
                    "confidential": rng.random() < 0.3, "outcome": "neutral"}
            return self.client.post(f"/v1/partners/{partner}/notes", json=body)
        return self.client.patch(f"/v1/partners/{partner}", json={"rating": round(rng.uniform(3, 5), 1)})


def run_load(
    config: LoadConfig, log: Callable[[str], None] = lambda _: None, progress: Progress = no_progress,
) -> LoadReport:
    report = LoadReport()
    headers = {"Authorization": f"Bearer {config.key}"}
    limits = httpx.Limits(max_connections=config.concurrency + 2)
    with httpx.Client(base_url=config.base_url, headers=headers, timeout=config.timeout,
                      limits=limits) as client:
        workload = Workload(client, config)
        started = time.monotonic()
        stop = started + config.seconds
        budget = iter(range(config.max_requests))
        budget_lock = threading.Lock()
        memory = MemoryWatch(config.server_pid, config.warmup or min(60.0, config.seconds * 0.1))

        def user(index: int) -> None:
            rng = random.Random(config.seed * 1000 + index)
            while time.monotonic() < stop:
                with budget_lock:
                    ticket = next(budget, None)
                if ticket is None:
                    return
                began = time.monotonic()
                if config.rate > 0:  # the ticket's slot in the schedule; late is counted late
                    began = started + ticket / config.rate
                    if began >= stop:
                        return
                    time.sleep(max(0.0, began - time.monotonic()))
                try:
                    kind, answer = workload.step(rng)
                    report.record(kind, answer.status_code, time.monotonic() - began)
                except httpx.HTTPError:
                    report.record("recommend", None, time.monotonic() - began)

        users = [threading.Thread(target=user, args=(i,), daemon=True)
                 for i in range(config.concurrency)]
        reindex = threading.Thread(
            target=_reindex, daemon=True,
            args=(client, report, started, config.seconds * (config.reindex_at or 0), log))
        for thread in users + ([reindex] if config.reindex_at is not None else []):
            thread.start()
        seconds = round(config.seconds)
        while any(t.is_alive() for t in users) and time.monotonic() < stop + config.timeout:
            memory.sample(time.monotonic() - started)
            progress("load (seconds)", min(round(time.monotonic() - started), seconds), seconds)
            time.sleep(min(5.0, max(0.1, config.seconds / 20)))
        report.seconds = time.monotonic() - started
        progress("load (seconds)", seconds, seconds)
        memory.sample(report.seconds)
        report.memory = memory.summary()
        if reindex.is_alive():  # bounded: after the wait the run ends, reindex done or not
            log(f"load done; waiting up to {config.reindex_wait:.0f} s for the reindex to answer")
            reindex.join(timeout=config.reindex_wait)
    return report


def _reindex(client: httpx.Client, report: LoadReport, started: float, after: float,
             log: Callable[[str], None]) -> None:
    time.sleep(max(0.0, started + after - time.monotonic()))
    log("full reindex started")
    began = time.monotonic()
    report.reindex = {"status": "unfinished", "started_at_s": round(began - started, 1)}
    try:  # answered once the rebuild is done, which may be after the end of the load
        answer = client.post("/v1/admin/reindex", timeout=None)
        report.reindex = {"status": answer.status_code, "started_at_s": round(began - started, 1),
                          "seconds": round(time.monotonic() - began, 1),
                          **(answer.json() if answer.status_code == 200 else {})}
    except httpx.HTTPError as error:
        report.reindex = {"status": None, "error": type(error).__name__}
    log(f"full reindex answered: {report.reindex}")


class MemoryWatch:
    """RSS of the server process and its children (uvicorn workers), from /proc."""

    def __init__(self, pid: int | None, warmup: float) -> None:
        self.pid = pid
        self.warmup = warmup
        self.samples: list[tuple[float, int]] = []

    def sample(self, at: float) -> None:
        if self.pid is not None:
            rss = tree_rss(self.pid)
            if rss:
                self.samples.append((at, rss))

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {}
        after_warmup = [rss for at, rss in self.samples if at >= self.warmup] or [self.samples[-1][1]]
        baseline, last = after_warmup[0], self.samples[-1][1]
        return {"pid": self.pid, "baseline_mb": round(baseline / 2**20, 1),
                "last_mb": round(last / 2**20, 1),
                "max_mb": round(max(rss for _, rss in self.samples) / 2**20, 1),
                "growth": round((last - baseline) / baseline, 4)}


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants; 0 when it is gone."""
    return sum(status_kb(p, "VmRSS") for p in [pid, *descendants(pid)]) * 1024


def descendants(pid: int) -> list[int]:
    """Every process started by `pid`, directly or not (uvicorn workers, their helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def status_kb(pid: int, key: str) -> int:
    """One kB field of /proc/PID/status (VmRSS, VmHWM); 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pid_listening_on(port: int) -> int | None:
    """The oldest process holding the listening TCP socket of a loopback port (the server)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    holders = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if links & inodes:
            holders.append(int(entry.name))
    return min(holders) if holders else None


def load(
    base_url: Annotated[str, typer.Option(help="The served API, on loopback")] = "http://127.0.0.1:8000",
    minutes: Annotated[float, typer.Option(help="How long to run")] = 10.0,
    key: Annotated[str, typer.Option(help="An admin API key (the reindex needs admin)",
                                     envvar="PARTNERMATCH_LOAD_KEY")] = "",
    concurrency: Annotated[int, typer.Option(help="Client threads")] = 8,
    server_pid: Annotated[int | None, typer.Option(help="Server PID (default: found by port)")] = None,
    reindex_at: Annotated[float, typer.Option(help="When to reindex, as a share of the run; "
                                                   "negative: never")] = 0.5,
    reindex_wait: Annotated[float, typer.Option(help="Seconds to wait after the load for the "
                                                     "reindex to answer")] = 60.0,
    max_requests: Annotated[int, typer.Option(help="Stop after this many requests")] = 1_000_000,
    p99_ms: Annotated[float, typer.Option(
        help="p99 target of recommendations, ms (the performance issue's)")] = 30.0,
    read_p99_ms: Annotated[float, typer.Option(help="p99 target of reads, ms")] = 500.0,
    write_p99_ms: Annotated[float, typer.Option(help="p99 target of writes, ms")] = 3000.0,
    max_5xx: Annotated[float, typer.Option(help="Largest share of 5xx answers")] = 0.001,
    max_memory_growth: Annotated[float, typer.Option(help="Largest RSS growth")] = 0.10,
    seed: Annotated[int, typer.Option(help="Seed of the request mix")] = 8,
    rate: Annotated[float, typer.Option(
        help="Requests per second in all, on a fixed schedule (latency counts from each "
             "scheduled start); 0: each client sends again as soon as it is answered, the most "
             "the server can take")] = 40.0,
) -> None:
    """Load the API for a while; print 5xx rate, latency percentiles and memory growth."""
    host = urlsplit(base_url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise typer.BadParameter("load runs only against loopback addresses", param_hint="--base-url")
    if not key:
        raise typer.BadParameter("give an admin key", param_hint="--key")
    pid = server_pid or pid_listening_on(urlsplit(base_url).port or 80)
    config = LoadConfig(base_url=base_url, key=key, seconds=minutes * 60, concurrency=concurrency,
                        reindex_at=reindex_at if reindex_at >= 0 else None, server_pid=pid,
                        max_requests=max_requests, seed=seed, reindex_wait=reindex_wait,
                        rate=rate)
    targets = Targets(max_5xx_rate=max_5xx, max_memory_growth=max_memory_growth,
                      p99_ms={"recommend": p99_ms, "read": read_p99_ms, "write": write_p99_ms})
    console = Console(stderr=True)
    with ProgressBars(console) as progress:
        report = run_load(config, log=lambda line: console.print(line, highlight=False), progress=progress)
    run = {"concurrency": concurrency, "rate": rate or "closed loop"}
    typer.echo(json.dumps({**run, **report.summary()}, ensure_ascii=False, indent=2))
    if report.reindex.get("status") == "unfinished":
        typer.echo("WARNING: the reindex had not answered when the run ended", err=True)
    missed = report.misses(targets)
    for line in missed:
        typer.echo(f"MISSED: {line}", err=True)
    if missed:
        raise typer.Exit(1)
    typer.echo("all targets met", err=True)
