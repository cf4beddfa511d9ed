"""API keys: stored hashed, shown once, revoked at once (within the key cache's seconds)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import ApiKey, utcnow
from service.audit import audit
from service.auth.callers import RANK, ROLES, Caller
from service.records import get_or_404

# A key says its role at a glance (in a config file, a log line someone pasted): pm_..., mgr_...
KEY_PREFIX = {"viewer": "view_", "pm": "pm_", "partner_manager": "mgr_", "admin": "adm_"}


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, name: str, role: str, actor: str | None = None
) -> tuple[ApiKey, str]:
    """A new key (returned once, stored hashed); audited under `actor` when one is named."""
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    key = f"{KEY_PREFIX[role]}{secrets.token_urlsafe(32)}"
    row = ApiKey(name=name, role=role, prefix=key[:12], key_hash=hash_key(key))
    session.add(row)
    session.flush()
    if actor:
        audit(session, actor, "create", "api_key", row.id, {"name": name, "role": role})
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


def revoke_key(session: Session, key_id: str, actor: str | None = None) -> ApiKey:
    """Revoke a key at once (a revoked one stays revoked); audited under `actor` when named."""
    row = get_or_404(session, ApiKey, key_id, "key")
    row.revoked_at = row.revoked_at or utcnow()
    if actor:
        audit(session, actor, "revoke", "api_key", key_id)
    return row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))
