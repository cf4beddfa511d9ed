"""The audit trail: who changed what, when. Values of confidential fields are never recorded."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import AuditEntry

log = logging.getLogger("partnermatch.audit")
# Fields whose values may be commercial secrets: the trail says they changed, not to what.
REDACTED = frozenset({"revenue_share_terms", "revenue_share", "body", "terms", "key_hash", "email"})


def audit(
    session: Session, actor: str, action: str, entity: str, entity_id: str,
    changes: dict[str, Any] | None = None,
) -> None:
    safe = {k: ("<redacted>" if k in REDACTED else _plain(v)) for k, v in (changes or {}).items()}
    session.add(
        AuditEntry(actor=actor, action=action, entity=entity, entity_id=entity_id, changes=safe)
    )
    log.info(
        "audit", extra={"actor": actor, "action": action, "entity": entity, "entity_id": entity_id,
                        "fields": sorted(safe)},
    )


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def list_audit(
    session: Session, actor: str | None = None, entity: str | None = None,
    start: date | None = None, end: date | None = None, limit: int = 200,
) -> list[AuditEntry]:
    """The trail, newest first: the actor contains `actor`, of one kind of entity, between two
    dates (both included, UTC)."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor.ilike(f"%{actor}%"))
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if start:
        query = query.where(AuditEntry.at >= datetime.combine(start, time(), UTC))
    if end:
        next_day = datetime.combine(end + timedelta(days=1), time(), UTC)
        query = query.where(AuditEntry.at < next_day)
    return list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))
