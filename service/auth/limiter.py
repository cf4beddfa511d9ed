"""Requests per caller and minute, in this process."""

from __future__ import annotations

import threading
import time

from service.errors import RateLimited


class RateLimiter:
    """A token bucket per caller, in this process: `per_minute` requests, bursts up to that."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, caller_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(caller_id, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[caller_id] = (tokens, now)
                raise RateLimited(max(1, int((1 - tokens) / self.rate + 0.999)))
            self._buckets[caller_id] = (tokens - 1, now)
