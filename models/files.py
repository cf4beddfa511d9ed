"""Files that appear whole or not at all: the index's, the status beside it, a backup."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_file(path: Path, mode: str = "wb", **options: Any) -> Iterator[IO[Any]]:
    """A temporary file in the same folder, written by the caller, then fsynced, renamed over
    `path` and the folder fsynced; on any failure it is removed and `path` left as it was."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, mode, **options) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def write_atomic(path: Path, data: bytes) -> None:
    with atomic_file(path) as out:
        out.write(data)


def fsync_directory(folder: Path) -> None:
    """Make the folder's entries (a rename, a new file or subfolder) durable."""
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
