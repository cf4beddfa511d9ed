"""`partnermatch bench`: speed and scale on this machine, printed as a table and as JSON.

For each catalog size: import (the real Shopify listings, then copies of them under new ids past
4,750), index build throughput, cold start of `partnermatch serve` with the saved index,
recommendation latency over HTTP with 1 and with N concurrent clients, throughput, the server's
peak memory; and in the same run the bare baseline: encode the query with all-MiniLM-L6-v2 and
search an exact FAISS index, in process. The baseline's index holds random unit vectors of the
catalog's size: its timing does not depend on what the vectors say.

Sizes share one embedding cache, empty at the start of the run unless `--cache` names one kept
from an earlier run: the first size then encodes every
listing (the cold build), larger ones encode only texts not seen yet (the copies repeat their
listing's text), as a rebuild does. Each size reports how many texts it encoded and reused.
Latency over HTTP, each run with its own mix:
- repeated: the fixed query list, every query asked once before the timed requests, as a PM asks
  again or a Slack button runs a search again. The server answers from its result cache;
- new queries: a request number makes every query new to the server (both encoders, every
  channel, the feedback pass: the whole pipeline);
- repeated, no result cache: a second server started with `PARTNERMATCH_RESULTS_CACHE_SIZE=0`,
  the query embeddings cached (the ranking runs in full for every request).
Repeated runs go with one and with N clients; new queries with one.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import numpy as np
import typer
from rich.console import Console

from catalog.importers.shopify import SOURCE, read_appstore
from catalog.importers.upsert import apply_import
from models.progress import Progress
from scripts.http_clients import concurrent_timings
from scripts.load import descendants, status_kb
from scripts.progress import ProgressBars
from scripts.runtime import open_runtime
from service.auth.keys import create_key
from service.index.changes import catalog_changed
from service.index.matcher import Matcher
from service.settings import Settings

STEPS = 8  # of one size: import, build, recall, baseline, four latency runs
JITTER = 0.02  # noise added to each vector for the distinct-vector recall (norm about 0.4)
QUERIES = [
    "定期購入を入れたい", "コンビニ決済と後払いに対応したい", "商品レビューを集めたい",
    "ストアを多言語化したい", "配送日時指定をつけたい", "ポイントと会員ランクを導入したい",
    "subscriptions with automatic monthly deliveries", "collect product reviews with photos",
    "translate the storefront", "pre-orders for items not in stock yet",
    "abandoned cart emails", "loyalty points and rewards", "wholesale price lists for B2B",
    "sync inventory with our warehouse", "gift wrapping at checkout", "live chat support",
]


def bench(
    sizes: Annotated[str, typer.Option(help="Catalog sizes, comma-separated")] = "5000,10000",
    appstore: Annotated[Path, typer.Option(help="The Shopify App Store export folder")] = Path(
        "../shared/data/shopify-app-store-2020"
    ),
    requests: Annotated[int, typer.Option(help="Requests per latency run")] = 300,
    clients: Annotated[int, typer.Option(help="Concurrent clients of the second run")] = 8,
    workers: Annotated[int, typer.Option(help="Worker processes of the server")] = 1,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON here")] = None,
    cache: Annotated[Path | None, typer.Option(
        help="An embedding cache file to use and keep (default: a new, empty one: a cold build)"
    )] = None,
    intents: Annotated[Path, typer.Option(
        help="Intents JSONL whose English and Japanese texts, with the bench's own queries, "
        "measure the vector search's recall against exact search (skipped when missing)"
    )] = Path("../shared/eval/dev-intents.jsonl"),
    served_import: Annotated[int, typer.Option(
        help="First, import this many listings into a running server with an empty embedding "
        "cache of its own: when it answers by keyword, when its index is whole (0: skip)")] = 5000,
) -> None:
    """Measure latency, throughput, build speed, cold start and memory; print a table and JSON."""
    records = read_appstore(appstore)
    probes = QUERIES + _intent_texts(intents)
    with (tempfile.TemporaryDirectory(prefix="pm-bench-cache-") as folder,
          ProgressBars(Console(stderr=True)) as progress):
        served = _served_import(_catalog(records, served_import), progress) if served_import else None
        store = cache or Path(folder) / "embeddings.sqlite"
        results = [
            _bench_size(int(size), records, requests, clients, store, workers, probes, progress)
            for size in sizes.split(",") if size
        ]
    report = {"machine": _machine(), "server_workers": workers, "served_import": served,
              "results": results}
    typer.echo(_table(results))
    if served:
        typer.echo(_served_table(served))
    text = json.dumps(report, indent=2)
    typer.echo(text)
    if out:
        out.write_text(text)


def _intent_texts(path: Path) -> list[str]:
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row[language] for row in rows for language in ("en", "ja") if row.get(language)]


def _bench_size(
    size: int, records: list[dict[str, Any]], requests: int, clients: int, cache: Path, workers: int,
    probes: list[str], progress: Progress,
) -> dict:  # type: ignore[type-arg]
    stage = f"bench, {size:,} partners (steps)"
    steps = iter(range(1, STEPS + 1))

    def step() -> None:
        progress(stage, next(steps), STEPS)

    progress(stage, 0, STEPS)
    with tempfile.TemporaryDirectory(prefix=f"pm-bench-{size}-") as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder}/bench.db", index_dir=Path(folder) / "index",
            embedding_cache_path=cache,
        )
        runtime = open_runtime(settings)
        started = time.perf_counter()
        with runtime.transaction() as session:
            report = apply_import(session, SOURCE, _catalog(records, size))
            catalog_changed(session, *report.changed_partners)
            _, key = create_key(session, "bench", "pm")
        imported = time.perf_counter() - started
        step()
        matcher = Matcher(settings, runtime.sessions, progress=progress)
        started = time.perf_counter()
        count = matcher.rebuild()
        build = time.perf_counter() - started
        step()
        embedders = [matcher.engine.dense, matcher.engine.multilingual]
        encoded = sum(getattr(e, "encoded", 0) for e in embedders)
        reused = sum(getattr(e, "reused", 0) for e in embedders)
        recall = {f"at_{k}": matcher.engine.vector_recall(probes, k) for k in (10, 100)}
        graph = matcher.engine.vector_graph()
        if graph:  # the copies' equal vectors moved apart, as distinct listings would be
            recall.update({f"at_{k}_distinct": matcher.engine.vector_recall(probes, k, JITTER)
                           for k in (10, 100)})
        step()
        baseline = _baseline(count, requests)
        step()
        runtime.database.dispose()
        env = {**os.environ, "PARTNERMATCH_DATABASE_URL": settings.database_url,
               "PARTNERMATCH_INDEX_DIR": str(settings.index_dir),
               "PARTNERMATCH_EMBEDDING_CACHE_PATH": str(cache),
               "PARTNERMATCH_RATE_LIMIT_PER_MINUTE": "100000000", "PARTNERMATCH_LOG_LEVEL": "WARNING"}
        # The files this run just wrote (catalog, index) go to disk first: a start meeting their
        # write-back would time this run's disk, not a start on a saved index.
        os.sync()
        server, base, cold = _serve(env, workers)
        try:
            _latency(base, key, len(QUERIES) * clients, clients)  # each query asked once first
            one = _latency(base, key, requests, 1)
            step()
            fresh = _latency(base, key, requests, 1, fresh_queries=True)
            step()
            many = _latency(base, key, requests, clients)
            memory = _peak_rss_mb(server.pid)  # the worker's own, or each worker's
            step()
        finally:
            _stop(server)
        server, base, _ = _serve({**env, "PARTNERMATCH_RESULTS_CACHE_SIZE": "0"}, workers)
        try:
            _latency(base, key, len(QUERIES) * clients, clients)
            ranked_one = _latency(base, key, requests, 1)
            ranked_many = _latency(base, key, requests, clients)
            step()
        finally:
            _stop(server)
    return {
        "partners": count, "import_s": round(imported, 2), "build_s": round(build, 2),
        "build_partners_per_s": round(count / build, 1),
        "build_texts_encoded": encoded, "build_texts_reused": reused,
        "vector_search": "hnsw" if graph else "exact", "vector_recall": recall,
        "cold_start_s": round(cold, 2), "clients": clients, "http_1_client": one,
        "http_1_client_new_queries": fresh, "http_n_clients": many,
        "http_1_client_no_result_cache": ranked_one, "http_n_clients_no_result_cache": ranked_many,
        "peak_rss_mb": memory, "bare_baseline": baseline,
        "service_p50_over_bare_p50": round(one["p50_ms"] / baseline["p50_ms"], 2),
        "new_queries_p50_over_bare_p50": round(fresh["p50_ms"] / baseline["p50_ms"], 2),
        "new_queries_p99_over_bare_p99": round(fresh["p99_ms"] / baseline["p99_ms"], 2),
        "no_result_cache_p50_over_bare_p50": round(ranked_one["p50_ms"] / baseline["p50_ms"], 2),
    }


def _served_import(records: list[dict[str, Any]], progress: Progress) -> dict[str, Any]:
    """A server on an empty catalog and an empty embedding cache; the listings imported by
    another process (as `partnermatch import` would, this one encoding nothing): seconds from
    the import's start to the server's first answer with candidates (by keyword), and to its
    whole index (every channel)."""
    stage = "served import: listings with every channel"
    with tempfile.TemporaryDirectory(prefix="pm-bench-served-") as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/bench.db",
                            index_dir=Path(folder) / "index")
        runtime = open_runtime(settings)
        with runtime.transaction() as session:
            _, key = create_key(session, "bench", "pm")
        runtime.database.dispose()
        env = {**os.environ, "PARTNERMATCH_DATABASE_URL": settings.database_url,
               "PARTNERMATCH_INDEX_DIR": str(settings.index_dir),
               "PARTNERMATCH_RATE_LIMIT_PER_MINUTE": "100000000", "PARTNERMATCH_LOG_LEVEL": "WARNING"}
        server, base, _ = _serve(env, 1)
        try:
            started = time.perf_counter()
            runtime = open_runtime(settings)
            with runtime.transaction() as session:
                report = apply_import(session, SOURCE, records)
                catalog_changed(session, *report.changed_partners)
            imported = time.perf_counter() - started
            runtime.database.dispose()
            headers = {"Authorization": f"Bearer {key}"}
            keyword = whole = None
            while whole is None and time.perf_counter() - started < 3600:
                elapsed = time.perf_counter() - started
                if keyword is None:
                    answer = httpx.post(f"{base}/v1/recommendations", headers=headers, timeout=30,
                                        json={"query": "subscriptions", "top_k": 5}).json()
                    keyword = elapsed if answer.get("candidates") else None
                ready = httpx.get(f"{base}/readyz", timeout=30).json()
                if ready.get("partners") == len(records):
                    progress(stage, len(records) - int(ready["vectors_pending"]), len(records))
                    if ready.get("complete"):
                        whole = time.perf_counter() - started
                time.sleep(0.25)
        finally:
            _stop(server)
    return {"partners": len(records), "import_s": round(imported, 2),
            "keyword_answer_s": round(keyword, 1) if keyword is not None else None,
            "whole_index_s": round(whole, 1) if whole is not None else None}


def _served_table(served: dict[str, Any]) -> str:
    return "\n".join([
        "", "| cold import into a running server | import s | answers by keyword after s | "
        "whole index after s |", "|" + " --- |" * 4,
        f"| {served['partners']} partners, empty embedding cache | {served['import_s']} | "
        f"{served['keyword_answer_s']} | {served['whole_index_s']} |",
    ])


def _catalog(records: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """The real listings, then copies of them under another id up to `size`."""
    out = list(records[:size])
    variant = 0
    while len(out) < size:
        variant += 1
        for record in records[: size - len(out)]:
            out.append({**record, "external_id": f"{record['external_id']}-v{variant}"})
    return out


def _baseline(count: int, requests: int) -> dict[str, float]:
    import faiss

    from models.embedders import BUNDLED_MINILM, SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(BUNDLED_MINILM)  # sentence-transformers on torch
    vectors = np.random.default_rng(0).standard_normal((count, embedder.dimension)).astype("float32")
    faiss.normalize_L2(vectors)
    index = faiss.IndexFlatIP(embedder.dimension)
    index.add(vectors)
    timings = []
    for i in range(requests):
        started = time.perf_counter()
        query = embedder.encode_queries([QUERIES[i % len(QUERIES)]])
        index.search(query, 10)
        timings.append((time.perf_counter() - started) * 1000)
    return _percentiles(timings)


def _serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str, float]:  # type: ignore[type-arg]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    while time.perf_counter() - started < 600:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return server, base, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.kill()
    raise RuntimeError("the server did not become ready in 600 s")


def _stop(server: subprocess.Popen) -> None:  # type: ignore[type-arg]
    server.terminate()
    server.wait(timeout=30)


def _latency(
    base: str, key: str, requests: int, clients: int, fresh_queries: bool = False
) -> dict[str, float]:
    timings, elapsed = concurrent_timings(base, key, QUERIES, requests, clients, fresh_queries)
    return {**_percentiles(timings), "requests_per_s": round(len(timings) / elapsed, 1)}


def _distinct(recall: dict[str, dict[str, float]]) -> str:
    distinct = recall.get("at_10_distinct")
    return f" (distinct: {min(distinct.values())})" if distinct else ""


def _percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the server: its own, or with workers, the largest worker's (each
    worker holds its own models and index)."""
    peaks = [status_kb(p, "VmHWM") for p in descendants(pid) or [pid]]
    return round(max(peaks) / 1024, 1)


def _machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0]}


RUNS = (
    ("http_1_client", "1 client, repeated"),
    ("http_1_client_new_queries", "1 client, new queries"),
    ("http_n_clients", "{n} clients, repeated"),
    ("http_1_client_no_result_cache", "1 client, repeated, no result cache"),
    ("http_n_clients_no_result_cache", "{n} clients, repeated, no result cache"),
    ("bare_baseline", "bare baseline (in process, 1 client)"),
)


def _table(results: list[dict]) -> str:  # type: ignore[type-arg]
    lines = [
        "| partners | import s | build s | import + build s | build/s | encoded | reused | "
        "cold start s | peak MB | vectors | recall@10 |",
        "|" + " --- |" * 11,
    ]
    for r in results:
        cache = " (empty cache)" if r["build_texts_reused"] == 0 else ""
        lines.append(
            f"| {r['partners']}{cache} | {r['import_s']} | {r['build_s']} | "
            f"{round(r['import_s'] + r['build_s'], 1)} | {r['build_partners_per_s']} | "
            f"{r['build_texts_encoded']} | {r['build_texts_reused']} | {r['cold_start_s']} | "
            f"{r['peak_rss_mb']} | {r['vector_search']} | {min(r['vector_recall']['at_10'].values())}"
            f"{_distinct(r['vector_recall'])} |"
        )
    lines += ["", "| partners | run | p50 ms | p95 ms | p99 ms | req/s | p50 / bare p50 | "
              "p99 / bare p99 |", "|" + " --- |" * 8]
    for r in results:
        bare = r["bare_baseline"]
        for name, label in RUNS:
            run = r[name]
            lines.append(
                f"| {r['partners']} | {label.format(n=r['clients'])} | {run['p50_ms']} | "
                f"{run['p95_ms']} | {run['p99_ms']} | {run.get('requests_per_s', '')} | "
                f"{round(run['p50_ms'] / bare['p50_ms'], 2)} | "
                f"{round(run['p99_ms'] / bare['p99_ms'], 2)} |"
            )
    return "\n".join(lines)
