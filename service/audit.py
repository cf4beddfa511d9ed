"""The audit trail: who changed what, when. Values of confidential fields are never recorded."""

from __future__ import annotations

import json
import logging
from typing import Any

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
