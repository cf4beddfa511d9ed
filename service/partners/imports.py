"""Imports: records read from files (the Shopify export, the catalog format, spreadsheets) go into
the catalog in the caller's unit of work, the index is told, and the import is audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from catalog.importers.upsert import ImportReport, apply_import
from service.audit import audit
from service.index.changes import catalog_changed


def import_records(
    session: Session, actor: str, source: str, files: Sequence[str],
    records: list[dict[str, Any]], notes: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
) -> ImportReport:
    """Upsert the records and loose notes (all or nothing, with the caller's unit of work), announce
    the partners they changed, and record who imported which files with what result."""
    report = apply_import(session, source, records, notes)
    catalog_changed(session, *report.changed_partners)
    audit(session, actor, "import", "catalog", source, {"files": list(files), **report.as_dict()})
    return report


def preview_import(
    session: Session, actor: str, source: str, files: Sequence[str],
    records: list[dict[str, Any]], notes: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
) -> ImportReport:
    """What `import_records` would do (created, updated, rejected...), done and rolled back: a
    dry run. The session's unit of work is rolled back whole, so it must hold nothing else."""
    try:
        return import_records(session, actor, source, files, records, notes)
    finally:
        session.rollback()
