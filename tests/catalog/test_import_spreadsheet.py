"""CSV files as a partnership team keeps them: partners and dated notes, imported idempotently."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from catalog.db import transaction
from catalog.importers.spreadsheet import import_spreadsheets, read_notes_csv, read_partners_csv
from catalog.importers.upsert import ImportFailed, ImportReport
from catalog.tables import NegotiationNote, Partner

PARTNERS = """\
external_id,name,vendor,kind,partner_type,status,description_en,description_ja,capabilities,categories,platforms,languages,support_languages,regions,pricing_summary,rating,review_count,url,revenue_share_terms
p-1,Sakura Payments,Sakura KK,app,reseller,active,Konbini payments.,コンビニ決済。,\
konbini-payment; card-payment,payments,Shopify、Shopify Plus,ja;en,ja,JP,from ¥0,4.5,"1,200",\
https://sakura.example.com,15%
p-2,Fuji Logistics,,service_partner,,,"Warehousing,
and delivery.",,,,,,,,,,,,
"""
NOTES = """\
partner_external_id,external_id,date,author,kind,body,outcome,terms,confidential
p-1,n-1,2024-04-01,Ito,meeting,Kick-off.,positive,,no
p-1,,2024/5/10,Ito,contract,Signed.,,15% revenue share,はい
p-2,,2024/06/03,,issue,Late pickups.,negative,,
"""


def write(tmp_path: Path, name: str, text: str, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """The team's two files, as Excel saves 'CSV UTF-8': with a byte-order mark."""
    return write(tmp_path, "partners.csv", PARTNERS, bom=True), write(tmp_path, "notes.csv", NOTES)


def import_files(
    factory: sessionmaker[Session], partners: Path | None, notes: Path | None
) -> ImportReport:
    with transaction(factory) as session:
        return import_spreadsheets(session, partners, notes)


def load_partner(factory: sessionmaker[Session], external_id: str) -> Partner:
    with factory() as session:
        query = select(Partner).where(Partner.external_id == external_id)
        return session.scalars(query.options(selectinload(Partner.notes))).one()


def count(factory: sessionmaker[Session], table: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_read_partners(files: tuple[Path, Path]) -> None:
    first, second = read_partners_csv(files[0])

    assert first["capabilities"] == ["konbini-payment", "card-payment"]
    assert first["platforms"] == ["Shopify", "Shopify Plus"]
    assert (first["rating"], first["review_count"]) == (4.5, 1200)
    assert second["status"] == "prospect" and second["partner_type"] is None
    assert second["description_en"] == "Warehousing,\nand delivery."
    assert second["vendor"] is None and second["languages"] == []


def test_read_notes(files: tuple[Path, Path]) -> None:
    (_, kick_off), (_, signed), (partner, late) = read_notes_csv(files[1])

    assert kick_off["external_id"] == "n-1" and kick_off["confidential"] is False
    assert signed["date"] == date(2024, 5, 10) and signed["confidential"] is True
    assert partner == "p-2" and late["author"] is None and late["outcome"] == "negative"
    assert signed["external_id"] != late["external_id"]
    assert read_notes_csv(files[1]) == read_notes_csv(files[1])  # derived ids are stable


def test_round_trip(session_maker: sessionmaker[Session], files: tuple[Path, Path]) -> None:
    report = import_files(session_maker, *files)

    assert (report.created, report.notes_created) == (2, 3)
    partner = load_partner(session_maker, "p-1")
    assert partner.source == "csv" and partner.description_ja == "コンビニ決済。"
    assert partner.revenue_share_terms == "15%"
    assert [(n.date, n.confidential) for n in partner.notes] == [
        (date(2024, 5, 10), True), (date(2024, 4, 1), False),
    ]


def test_second_run_changes_nothing(
    session_maker: sessionmaker[Session], files: tuple[Path, Path]
) -> None:
    import_files(session_maker, *files)

    report = import_files(session_maker, *files)

    assert (report.created, report.updated, report.skipped) == (0, 0, 2)
    assert (report.notes_created, report.notes_updated, report.notes_skipped) == (0, 0, 3)
    assert count(session_maker, NegotiationNote) == 3


def test_edit_updates_in_place(
    session_maker: sessionmaker[Session], files: tuple[Path, Path], tmp_path: Path
) -> None:
    import_files(session_maker, *files)
    before = load_partner(session_maker, "p-1")
    edited = write(tmp_path, "partners.csv", PARTNERS.replace(",active,", ",paused,"))
    notes = write(tmp_path, "notes.csv", NOTES.replace("Kick-off.", "Kick-off with the CTO."))

    report = import_files(session_maker, edited, notes)

    assert (report.created, report.updated, report.skipped) == (0, 1, 1)
    assert (report.notes_created, report.notes_updated) == (0, 1)
    after = load_partner(session_maker, "p-1")
    assert (after.id, after.status) == (before.id, "paused")
    assert count(session_maker, NegotiationNote) == 3


def test_notes_for_stored_partners_import_alone(
    session_maker: sessionmaker[Session], files: tuple[Path, Path]
) -> None:
    import_files(session_maker, files[0], None)

    report = import_files(session_maker, None, files[1])

    assert (report.created, report.notes_created) == (0, 3)


def test_every_problem_is_named_with_file_and_line(tmp_path: Path) -> None:
    lines = PARTNERS.splitlines()
    bad = [
        lines[0],
        "p-1,Sakura,,app,reseller,archived,,,,,,,,,,high,-3,,",
        "p-1,,,wholesaler,,,,,,,,,,,,,,,",
    ]
    path = write(tmp_path, "partners.csv", "\n".join(bad) + "\n")

    with pytest.raises(ImportFailed) as caught:
        read_partners_csv(path)

    assert caught.value.problems == [
        f"{path}:2: status 'archived' is not one of prospect, negotiating, active, paused, ended",
        f"{path}:2: rating 'high' is not a number",
        f"{path}:2: review_count -3 is out of range (0 or more)",
        f"{path}:3: name is empty",
        f"{path}:3: kind 'wholesaler' is not one of app, integration, service_partner, platform,"
        " agency",
        f"{path}:3: duplicate external_id 'p-1' (first on line 2)",
    ]


def test_note_problems_count_lines_across_multiline_cells(tmp_path: Path) -> None:
    text = NOTES + (
        'p-1,n-9,"2024-13-01",,call,"Two\nlines",great,,maybe\n'
        "p-1,n-1,2024-01-01,,meeting,x,,,\n"
    )
    path = write(tmp_path, "notes.csv", text)

    with pytest.raises(ImportFailed) as caught:
        read_notes_csv(path)

    problems = caught.value.problems
    assert [p.split(": ")[0] for p in problems] == [f"{path}:5"] * 4 + [f"{path}:7"]
    assert "date '2024-13-01' is not a date (YYYY-MM-DD or YYYY/MM/DD)" in problems[0]
    assert "duplicate note id 'n-1' (first on line 2)" in problems[4]


def test_unknown_and_missing_columns_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "partners.csv", "external_id,name,colour\np-1,Sakura,red\n")

    with pytest.raises(ImportFailed) as caught:
        read_partners_csv(path)

    assert caught.value.problems[:2] == [
        f"{path}:1: unknown column 'colour'",
        f"{path}:1: required column 'kind' is missing",
    ]


def test_shift_jis_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "partners.csv"
    path.write_bytes(PARTNERS.encode("cp932", errors="replace"))

    with pytest.raises(ImportFailed, match="not UTF-8"):
        read_partners_csv(path)


def test_notes_for_unknown_partner_name_notes_file_and_line(
    session_maker: sessionmaker[Session], files: tuple[Path, Path], tmp_path: Path
) -> None:
    notes = write(tmp_path, "notes.csv", NOTES + "p-404,,2024-07-01,,meeting,Who?,,,\n")

    with pytest.raises(ImportFailed) as caught:
        import_files(session_maker, files[0], notes)

    assert caught.value.problems == [
        f"{notes}:5: partner_external_id 'p-404' is neither in this import"
        " nor stored under source 'csv'"
    ]
    assert count(session_maker, Partner) == count(session_maker, NegotiationNote) == 0


def test_nothing_written_on_error(
    session_maker: sessionmaker[Session], files: tuple[Path, Path], tmp_path: Path
) -> None:
    import_files(session_maker, *files)
    edited = PARTNERS.replace(",active,", ",paused,") + "p-3,Broken,,app,,,,,,,,,,,,6,,,\n"

    with pytest.raises(ImportFailed, match="rating 6.0 is out of range"):
        import_files(session_maker, write(tmp_path, "partners.csv", edited), files[1])

    assert count(session_maker, Partner) == 2
    assert load_partner(session_maker, "p-1").status == "active"


def test_note_moved_to_another_partner_is_updated_not_duplicated(
    session_maker: sessionmaker[Session], files: tuple[Path, Path], tmp_path: Path
) -> None:
    import_files(session_maker, *files)
    moved = write(tmp_path, "notes.csv", NOTES.replace("p-1,n-1,", "p-2,n-1,"))

    report = import_files(session_maker, files[0], moved)

    assert (report.notes_created, report.notes_updated, report.notes_skipped) == (0, 1, 2)
    assert "n-1" in [note.external_id for note in load_partner(session_maker, "p-2").notes]
    assert count(session_maker, NegotiationNote) == 3


def test_a_blank_or_missing_confidential_cell_never_makes_a_note_public(
    session_maker: sessionmaker[Session], files: tuple[Path, Path], tmp_path: Path
) -> None:
    import_files(session_maker, *files)  # "Signed." is confidential
    blank = NOTES.replace("15% revenue share,はい", "15% revenue share,")
    import_files(session_maker, None, write(tmp_path, "blank.csv", blank))
    dropped = "\n".join(line.rsplit(",", 1)[0] for line in NOTES.splitlines()) + "\n"
    import_files(session_maker, None, write(tmp_path, "no-column.csv", dropped))
    assert next(n for n in load_partner(session_maker, "p-1").notes if n.body == "Signed.").confidential

    new = NOTES.replace("Late pickups.", "Pickups on time again.")  # a new note, blank cell
    import_files(session_maker, None, write(tmp_path, "new.csv", new))
    assert not next(n for n in load_partner(session_maker, "p-2").notes
                    if n.body == "Pickups on time again.").confidential

    lowered = NOTES.replace("15% revenue share,はい", "15% revenue share,いいえ")
    import_files(session_maker, None, write(tmp_path, "lowered.csv", lowered))
    assert not next(n for n in load_partner(session_maker, "p-1").notes if n.body == "Signed.").confidential


def test_text_longer_than_the_api_takes_is_refused(
    session_maker: sessionmaker[Session], tmp_path: Path
) -> None:
    long_terms = NOTES.replace("15% revenue share", "1" * 2_001)
    with pytest.raises(ImportFailed) as failure:
        import_files(session_maker, None, write(tmp_path, "long.csv", long_terms))
    assert any(":3: terms is longer than 2000 characters" in p for p in failure.value.problems)
    long_name = PARTNERS.replace("Sakura Payments", "S" * 301)
    with pytest.raises(ImportFailed) as failure:
        import_files(session_maker, write(tmp_path, "p.csv", long_name), None)
    assert any(":2: name is longer than 300 characters" in p for p in failure.value.problems)
    assert count(session_maker, Partner) == 0
