"""The benchmark's concurrent clients: each a process of its own, asking for recommendations.

Clients as threads of one process share its interpreter lock: on this 2-core machine, eight
httpx clients in threads took 2.6 ms of CPU per request (one alone 1.1 ms), as much as the
server spent answering. As processes they cost what a lone client does, and the figure measures
the server rather than the client. This module imports nothing else of the project, so a
client process starts in a fraction of a second.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from typing import Any

import httpx


def recommend_timings(
    base: str, key: str, queries: Sequence[str], requests: int, offset: int = 0,
    fresh_queries: bool = False, start: Any = None,
) -> tuple[list[float], float, float]:
    """Ask `requests` recommendations one after another; their latencies in ms, and when the
    first started and the last ended (monotonic seconds, comparable across processes). With
    `start` (a barrier), the first waits for every client to be ready."""
    timings = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        if start is not None:
            start.wait()
        began = time.monotonic()
        for i in range(requests):
            query = queries[(offset + i) % len(queries)]
            if fresh_queries:  # a request number makes every query new to the server
                query = f"{query} #{time.monotonic_ns()}"
            body = {"query": query, "top_k": 10}
            sent = time.perf_counter()
            answer = client.post("/v1/recommendations", json=body)
            timings.append((time.perf_counter() - sent) * 1000)
            answer.raise_for_status()
        return timings, began, time.monotonic()


def concurrent_timings(
    base: str, key: str, queries: Sequence[str], requests: int, clients: int,
    fresh_queries: bool = False,
) -> tuple[list[float], float]:
    """`clients` processes sharing `requests` between them, started together; all latencies
    in ms, and the seconds from the first request sent to the last answered."""
    if clients == 1:
        timings, began, ended = recommend_timings(base, key, queries, requests,
                                                  fresh_queries=fresh_queries)
        return timings, ended - began
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(clients), context.Queue()
    processes = [
        context.Process(target=_client, args=(
            results, base, key, list(queries), requests // clients, n * 7, fresh_queries, start))
        for n in range(clients)
    ]
    for process in processes:
        process.start()
    try:
        runs = [results.get(timeout=600) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
    failed = [run for run in runs if isinstance(run, str)]
    if failed:
        raise RuntimeError(f"a benchmark client failed: {failed[0]}")
    timings = [t for run, _, _ in runs for t in run]
    return timings, max(end for _, _, end in runs) - min(began for _, began, _ in runs)


def _client(results: Any, *args: Any) -> None:
    try:
        results.put(recommend_timings(*args))
    except Exception as error:  # reported to the parent, which raises it
        results.put(f"{type(error).__name__}: {error}")
