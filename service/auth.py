"""API keys (stored hashed) and the roles that may use each route."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import ApiKey, utcnow
from service.errors import NotFound, RateLimited

ROLES = ("viewer", "pm", "partner_manager", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Caller:
    """Who is asking: an API key or a Slack user mapped to a role."""

    id: str
    name: str
    role: str

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    @property
    def sees_notes(self) -> bool:
        return self.at_least("pm")

    @property
    def sees_confidential(self) -> bool:
        return self.at_least("partner_manager")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})"


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str, role: str) -> tuple[ApiKey, str]:
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    key = f"pm_{secrets.token_urlsafe(32)}"
    row = ApiKey(name=name, role=role, prefix=key[:10], key_hash=hash_key(key))
    session.add(row)
    session.flush()
    return row, key


def find_key(session: Session, key: str) -> Caller | None:
    row = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
    return Caller(id=row.id, name=row.name, role=row.role) if row else None


class KeyCache:
    """Keys found valid lately, so most requests need no database read to authenticate.

    Only valid keys are kept, by hash, for `seconds`: a key revoked elsewhere (the CLI, another
    replica) still works here until its entry expires. 0 turns the cache off.
    """

    def __init__(
        self, seconds: float, size: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._callers: TTLCache[str, Caller] | None = (
            TTLCache(maxsize=size, ttl=seconds, timer=clock) if seconds > 0 else None
        )
        self._lock = threading.Lock()

    def cached(self, key: str) -> Caller | None:
        """The caller of a key found valid within `seconds`, else None (look it up)."""
        if self._callers is None:
            return None
        with self._lock:
            return self._callers.get(hash_key(key))

    def remember(self, key: str, caller: Caller) -> None:
        if self._callers is not None:
            with self._lock:
                self._callers[hash_key(key)] = caller


def revoke_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no key {key_id}")
    row.revoked_at = row.revoked_at or utcnow()
    return row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


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
