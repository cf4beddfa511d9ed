"""The managers' and admins' pages: the catalog, the coverage gaps, API keys and the audit log."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from catalog.importers.spreadsheet import SOURCE as SPREADSHEET_SOURCE
from catalog.importers.spreadsheet import read_notes_csv, read_partners_csv
from catalog.importers.upsert import ImportFailed
from catalog.vocabulary import PARTNER_KINDS, PARTNER_STATUSES
from service.audit import list_audit
from service.auth.callers import ROLES
from service.auth.keys import create_key, list_keys, revoke_key
from service.console.web import PostedDep, UserDep, forbidden, render
from service.http.deps import MatcherDep, SessionDep, SettingsDep
from service.kpis.service import gap_report
from service.partners import service as partners
from service.partners.imports import import_records, preview_import
from service.partners.routes import present
from service.partners.schemas import PartnerCreate

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/partners")
def catalog_page(
    request: Request, user: UserDep, session: SessionDep, q: str = "", kind: str = "",
    status: str = "", category: str = "", page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    name: str = "", sort: str = "name",
) -> HTMLResponse:
    """The catalog, filtered, sorted and paged as the API lists it; every link keeps the filters
    and the sort. `name` prefills a new partner's."""
    filters = partners.PartnerFilters(q[:200] or None, kind if kind in PARTNER_KINDS else None,
                                      status if status in PARTNER_STATUSES else None, None,
                                      category[:100] or None, False)
    sort = sort if sort in partners.PARTNER_SORTS else "name"
    rows, total = partners.list_partners(session, filters, PAGE, (page - 1) * PAGE, sort)
    chosen = {"q": q[:200], "kind": kind, "status": status, "category": category[:100]}
    kept = {k: v for k, v in chosen.items() if v}
    return render(request, "catalog.html", user, rows=[present(p, user.caller) for p in rows],
                  total=total, page=page, pages=max(1, -(-total // PAGE)), chosen=chosen,
                  sort=sort, query=urlencode({**kept, "sort": sort}),
                  sort_links={column: urlencode({**kept, "sort": _next_sort(sort, column)})
                              for column in SORTED_BY_HEADER},
                  sorts=partners.PARTNER_SORTS, kinds=PARTNER_KINDS, statuses=PARTNER_STATUSES,
                  prefill=name[:300])


SORTED_BY_HEADER = ("name", "status", "rating", "updated")


def _next_sort(current: str, column: str) -> str:
    """A column's header sorts by it; on the column sorted by, it turns the order round. Ratings
    and dates start with the highest and newest."""
    if current.lstrip("-") == column:
        return column if current.startswith("-") else f"-{column}"
    return f"-{column}" if column in ("rating", "updated") else column


@router.post("/partners")
def create_partner(
    request: Request, user: PostedDep, session: SessionDep,
    name: Annotated[str, Form(max_length=300)], kind: Annotated[str, Form()] = "app",
    status: Annotated[str, Form()] = "prospect", description_ja: Annotated[str, Form()] = "",
    description_en: Annotated[str, Form()] = "",
) -> Response:
    """A manager adds a partner (a prospect from a coverage gap, say); validated by the API's
    schema."""
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    body = PartnerCreate.model_validate({"name": name, "kind": kind, "status": status,
                                         "description_ja": description_ja,
                                         "description_en": description_en})
    partner = partners.create_partner(session, user.caller, body.model_dump(exclude_none=True))
    return RedirectResponse(f"/partners/{partner.id}", status_code=303)


@router.post("/partners/import")
def import_page(
    request: Request, user: PostedDep, session: SessionDep,
    partners_file: Annotated[UploadFile | None, File()] = None,
    notes_file: Annotated[UploadFile | None, File()] = None,
    partners_text: Annotated[str, Form()] = "", notes_text: Annotated[str, Form()] = "",
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    """A CSV import in two steps: the files' dry run (what would be created, updated, rejected),
    then, confirmed, the same texts imported for good (`import_records`, audited)."""
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    texts = {"partners": _text(partners_file) or partners_text, "notes": _text(notes_file) or notes_text}
    try:
        records, notes = _read_csv(texts)
        run = import_records if confirm else preview_import
        report = run(session, user.caller.label, SPREADSHEET_SOURCE,
                     [f"{name}.csv" for name, text in texts.items() if text], records, notes)
    except ImportFailed as failure:
        session.rollback()
        return render(request, "import.html", user, status_code=422, problems=failure.problems,
                      report=None, texts=texts, confirmed=False)
    return render(request, "import.html", user, problems=report.problems, report=report,
                  texts=texts, confirmed=confirm)


def _text(upload: UploadFile | None) -> str:
    return upload.file.read().decode("utf-8-sig") if upload and upload.filename else ""


def _read_csv(texts: dict[str, str]) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
    """The spreadsheet importer reads files: the texts are written to a folder of their own, under
    the names its messages will quote."""
    with tempfile.TemporaryDirectory() as folder:
        paths = {name: Path(folder) / f"{name}.csv" for name, text in texts.items() if text}
        for name, path in paths.items():
            path.write_text(texts[name], encoding="utf-8")
        records = read_partners_csv(paths["partners"]) if "partners" in paths else []
        notes = read_notes_csv(paths["notes"]) if "notes" in paths else []
    return records, notes


@router.get("/gaps")
def gaps_page(
    request: Request, user: UserDep, session: SessionDep, matcher: MatcherDep, settings: SettingsDep,
) -> HTMLResponse:
    """What PMs asked that no partner covers: the recruiting list."""
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    report = gap_report(session, matcher.engine.glossary, settings.gap_threshold)
    return render(request, "gaps.html", user, report=report)


@router.get("/admin")
def admin_page(
    request: Request, user: UserDep, session: SessionDep, actor: str = "", entity: str = "",
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    if not user.caller.at_least("admin"):
        return forbidden(request, user)
    entries = list_audit(session, actor[:200] or None, entity[:32] or None, start, end)
    return render(request, "admin.html", user, keys=list_keys(session), roles=ROLES,
                  entries=entries, chosen={"actor": actor, "entity": entity, "from": start or "",
                                           "to": end or ""})


@router.post("/admin/keys")
def create_key_page(
    request: Request, user: PostedDep, session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=200)], role: Annotated[str, Form()],
) -> HTMLResponse:
    """The new key is shown on this answer only (it is stored hashed)."""
    if not user.caller.at_least("admin"):
        return forbidden(request, user)
    if role not in ROLES:
        return forbidden(request, user)
    row, key = create_key(session, name, role, actor=user.caller.label)
    return render(request, "key_created.html", user, row=row, key=key)


@router.post("/admin/keys/{key_id}/revoke")
def revoke_key_page(request: Request, key_id: str, user: PostedDep, session: SessionDep) -> Response:
    if not user.caller.at_least("admin"):
        return forbidden(request, user)
    revoke_key(session, key_id, actor=user.caller.label)
    return RedirectResponse("/admin", status_code=303)
