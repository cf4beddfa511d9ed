"""Backup and restore of the whole database as JSON lines, portable between SQLite and PostgreSQL.

The file: a header line (format, version, schema revision, tables), one line per row
(`{"table": ..., "row": {...}}`, tables in foreign-key order) and an end line with the row counts,
so a cut-off file is refused. API keys are kept as their hashes only: the keys themselves are
never stored anywhere. A restore runs in one transaction, refuses a file of another schema
revision, and refuses a non-empty database unless forced. Forced, it keeps what the database must
not forget: its audit trail (the file's entries are added to it, never put in its place) and its
revoked keys (a key revoked since the backup stays revoked unless `revive_keys`). Rebuilding the
index afterwards is the caller's job (the index is not in the file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, cast

from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Table,
    func,
    insert,
    select,
    text,
    update,
)

from catalog.tables import ApiKey, AuditEntry, Base, CatalogState
from models.files import atomic_file

AUDIT = AuditEntry.__tablename__
FORMAT = "partnermatch-backup"
VERSION = 1
BATCH = 500


class BackupError(Exception):
    """The file is not a complete backup this version can restore, or the target is not empty."""


@dataclass
class BackupReport:
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def tables() -> list[Table]:
    """Every table, parents before children."""
    return list(Base.metadata.sorted_tables)


def backup(database: Engine, path: Path) -> BackupReport:
    """Write every row to `path` from one consistent snapshot; the file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "w", encoding="utf-8") as out, _snapshot(database) as connection:
        return _write(connection, out)


def restore(
    database: Engine, path: Path, force: bool = False, revive_keys: bool = False,
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
) -> BackupReport:
    """Load a backup into a database at the file's schema revision, all or nothing; `progress`
    is told the rows written so far."""
    header, rows = _read(path)
    written = 0
    progress("restoring rows", written, len(rows))
    counts = {table.name: 0 for table in tables()}
    with database.begin() as connection:
        _check_revision(connection, header, path)
        if not force and not is_empty(connection):
            raise BackupError("the database is not empty; restore into an empty one or use --force")
        replaced = _generation(connection)
        revoked = _revoked_keys(connection)
        trail = _audit_trail(connection)
        for table in reversed(tables()):
            if table.name != AUDIT:
                connection.execute(table.delete())
        by_name = {table.name: table for table in tables()}
        for name, batch in _batches(rows):
            table = by_name[name]
            decoded = [_decode(table, row) for row in batch]
            if name == AUDIT:
                decoded = _new_to(trail, decoded)
            if decoded:
                connection.execute(insert(table), decoded)
            counts[name] += len(decoded)
            written += len(batch)
            progress("restoring rows", written, len(rows))
        if not revive_keys:
            _keep_revoked(connection, revoked)
        _reset_sequences(connection)
        _set_generation(connection, max(replaced, _generation(connection)) + 1)
    return BackupReport(counts)


def _check_revision(connection: Connection, header: dict[str, Any], path: Path) -> None:
    current = MigrationContext.configure(connection).get_current_revision()
    if header.get("revision") != current:
        raise BackupError(
            f"{path} was written at schema revision {header.get('revision')!r} and this database is "
            f"at {current!r}: restore it with the partnermatch version that wrote it, back up "
            "from there, and upgrade"
        )


def _revoked_keys(connection: Connection) -> dict[str, datetime]:
    keys = cast(Table, ApiKey.__table__)
    revoked = select(keys.c.key_hash, keys.c.revoked_at).where(keys.c.revoked_at.is_not(None))
    return {key_hash: revoked_at for key_hash, revoked_at in connection.execute(revoked)}


def _keep_revoked(connection: Connection, revoked: dict[str, datetime]) -> None:
    """A key revoked in the database stays revoked, whatever the file says of it."""
    keys = cast(Table, ApiKey.__table__)
    for key_hash, revoked_at in revoked.items():
        connection.execute(update(keys).where(keys.c.key_hash == key_hash, keys.c.revoked_at.is_(None))
                           .values(revoked_at=revoked_at))


def _audit_trail(connection: Connection) -> dict[int, tuple[Any, ...]]:
    """The database's audit entries by id, as what says who did what when."""
    trail = AuditEntry.__table__
    return {row.id: _audit_key(row._mapping) for row in connection.execute(select(trail))}


def _new_to(trail: dict[int, tuple[Any, ...]], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The file's audit entries the database does not hold yet: an entry it holds (same id, same
    content) is skipped, and one whose id another entry took is added under a new id."""
    new = []
    for entry in entries:
        held = trail.get(entry["id"])
        if held is None:
            new.append(entry)
        elif held != _audit_key(entry):
            new.append({name: value for name, value in entry.items() if name != "id"})
    return new


def _audit_key(entry: Any) -> tuple[Any, ...]:
    at = entry["at"]
    at = at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
    return (at, entry["actor"], entry["action"], entry["entity"], entry["entity_id"])


def is_empty(connection: Connection) -> bool:
    return all(
        connection.scalar(select(func.count()).select_from(table)) == 0 for table in tables()
    )


def _generation(connection: Connection) -> int:
    return connection.scalar(select(CatalogState.generation).where(CatalogState.id == 1)) or 0


def _set_generation(connection: Connection, generation: int) -> None:
    """A generation newer than both the restored and the replaced catalog's: an index saved for
    either is never taken for the restored catalog's."""
    state = cast(Table, CatalogState.__table__)
    values = {"generation": generation, "updated_at": datetime.now(UTC)}
    if not connection.execute(update(state).where(state.c.id == 1).values(**values)).rowcount:
        connection.execute(insert(state).values(id=1, **values))


def _snapshot(database: Engine):  # type: ignore[no-untyped-def]
    # SQLite's BEGIN IMMEDIATE (catalog/sqlite_gate.py) and PostgreSQL's REPEATABLE READ both give one
    # consistent view of all tables while writers go on (PostgreSQL) or wait (SQLite).
    if database.dialect.name == "postgresql":
        return database.connect().execution_options(isolation_level="REPEATABLE READ")
    return database.connect()


def _write(connection: Connection, out: IO[str]) -> BackupReport:
    with connection.begin():
        revision = MigrationContext.configure(connection).get_current_revision()
        counts: dict[str, int] = {}
        out.write(_line({"format": FORMAT, "version": VERSION, "revision": revision,
                         "created_at": datetime.now(UTC).isoformat(),
                         "tables": [table.name for table in tables()]}))
        for table in tables():
            counts[table.name] = 0
            query = select(table).order_by(*table.primary_key.columns)
            for row in connection.execute(query).mappings():
                out.write(_line({"table": table.name, "row": _encode(row)}))
                counts[table.name] += 1
        out.write(_line({"end": True, "counts": counts}))
    return BackupReport(counts)


def _read(path: Path) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """The header and every row, checked before anything is written: complete, known, counted."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise BackupError(f"cannot read {path}: {error}") from None
    if not entries or entries[0].get("format") != FORMAT:
        raise BackupError(f"{path} is not a partnermatch backup")
    header, end = entries[0], entries[-1]
    if header.get("version") != VERSION:
        raise BackupError(f"backup format version {header.get('version')!r}; this reads {VERSION}")
    if not end.get("end"):
        raise BackupError(f"{path} is incomplete: no end line (cut off while written?)")
    known = {table.name for table in tables()}
    rows = [(entry["table"], entry["row"]) for entry in entries[1:-1]]
    unknown = {name for name, _ in rows} - known
    if unknown:
        raise BackupError(f"{path} has tables this schema lacks: {sorted(unknown)}")
    counted = {name: 0 for name in known}
    for name, _ in rows:
        counted[name] += 1
    if any(counted[name] != end["counts"].get(name, 0) for name in known):
        raise BackupError(f"{path} is damaged: its row counts do not match its end line")
    return {**header, "counts": end["counts"]}, rows


def _batches(rows: list[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    batch: list[dict[str, Any]] = []
    current = None
    for name, row in rows:
        if batch and (name != current or len(batch) >= BATCH):
            yield current, batch  # type: ignore[misc]
            batch = []
        current = name
        batch.append(row)
    if batch:
        yield current, batch  # type: ignore[misc]


def _encode(row: Any) -> dict[str, Any]:
    return {key: _plain(value) for key, value in row.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLite hands back naive datetimes; every stored time is UTC.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    decoded = {}
    for column in table.columns:
        value = row.get(column.name)
        if value is not None and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(column.type, Date):
            value = date.fromisoformat(value)
        decoded[column.name] = value
    return decoded


def _reset_sequences(connection: Connection) -> None:
    """Rows came with their ids: move PostgreSQL's id sequences past them."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                ))


def _line(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
