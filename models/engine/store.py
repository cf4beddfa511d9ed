"""The engine's saved state on disk: one folder per save, switched by an atomic pointer file.

    INDEX_DIR/CURRENT                      {"version": NAME, "generation": G, ...}
    INDEX_DIR/versions/NAME/documents.pickle the documents, with the generation
    INDEX_DIR/versions/NAME/<channel>/     each channel's vectors and meta

A save writes a whole new version folder, fsyncs it, then replaces CURRENT (write, fsync,
rename): the rename is the commit point. A crash before it leaves the previous version in use
and a half-written folder that nothing names, removed by the next save; a crash after it leaves
the new version whole. Old versions are removed once CURRENT no longer names them.

    INDEX_DIR/versions/NAME/lexical/       the BM25 arrays (bm25s) and their meta, with the overlay

documents.pickle also keeps each listing's glossary concepts; with the BM25 arrays they are used
on load when the same glossary and text analysis made them (fingerprints), else made again.

The documents are pickled: at 100,000 listings, loading them took 0.4 s against 3.3 s from JSON
(parsed, then made into documents), and pickle keeps the values documents share shared (see
`SharedValues`). Unpickling can run code, like loading any program state: the index folder is
the service's own, written only by it, as its database file is.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.documents import Document
from models.files import fsync_directory, write_atomic
from models.vector_index import IndexMismatch

POINTER_FILE = "CURRENT"
VERSIONS_DIR = "versions"
DOCUMENTS_FILE = "documents.pickle"


@dataclass(frozen=True)
class SavedVersion:
    """What CURRENT names: the folder of the version in use, its generation and the caller's
    own notes (the service keeps its catch-up watermark there)."""

    folder: Path
    generation: int
    extra: dict[str, Any]


def save_version(
    root: Path, generation: int, write: Callable[[Path], None], extra: dict[str, Any] | None = None
) -> SavedVersion:
    """Write a version with `write(folder)`, then make it current in one atomic step."""
    name = f"g{generation:010d}-{uuid.uuid4().hex[:12]}"
    folder = root / VERSIONS_DIR / name
    folder.mkdir(parents=True)
    write(folder)
    _fsync_tree(folder)  # durable before CURRENT names it
    fsync_directory(folder.parent)
    pointer = {"version": name, "generation": generation, "extra": extra or {}}
    write_atomic(root / POINTER_FILE, json.dumps(pointer).encode())
    _remove_other_versions(root, keep=name)
    return SavedVersion(folder, generation, dict(extra or {}))


def current_version(root: Path) -> SavedVersion:
    """The version CURRENT names; IndexMismatch when there is none or it is unreadable."""
    try:
        pointer = json.loads((root / POINTER_FILE).read_text(encoding="utf-8"))
        folder = root / VERSIONS_DIR / str(pointer["version"])
        saved = SavedVersion(folder, int(pointer["generation"]), dict(pointer.get("extra") or {}))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IndexMismatch(f"no saved index in {root}: {error}") from None
    if not folder.is_dir():
        raise IndexMismatch(f"the saved index names {folder}, which is missing")
    return saved


def save_documents(
    folder: Path, documents: list[Document], generation: int,
    concepts: Mapping[str, frozenset[str]], glossary: str,
) -> None:
    """The documents, with the glossary concepts each names (and which glossary found them)."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "generation": generation, "documents": documents, "glossary": glossary,
        "concepts": {d.id: concepts.get(d.id, frozenset()) for d in documents},
    }
    write_atomic(folder / DOCUMENTS_FILE, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def load_documents(
    folder: Path, generation: int, glossary: str
) -> tuple[list[Document], dict[str, frozenset[str]] | None]:
    """The documents, and their concepts when the same glossary found them (else None)."""
    try:
        payload = pickle.loads((folder / DOCUMENTS_FILE).read_bytes())
        if not isinstance(payload, dict):
            raise ValueError(f"a {type(payload).__name__}, not the documents")
    except Exception as error:  # unpickling a torn or foreign file raises almost anything
        raise IndexMismatch(f"no readable documents in {folder}: {error}") from None
    if payload.get("generation") != generation:
        raise IndexMismatch(
            f"saved documents are generation {payload.get('generation')!r}, expected {generation}"
        )
    documents: list[Document] = payload["documents"]
    if payload.get("glossary") != glossary:
        return documents, None
    return documents, payload["concepts"]


def _fsync_tree(folder: Path) -> None:
    """fsync every file and folder under `folder` (some writers, like bm25s, do not)."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        else:
            fsync_directory(path)
    fsync_directory(folder)


def _remove_other_versions(root: Path, keep: str) -> None:
    """Versions CURRENT no longer names, and folders of saves that died before their switch.
    Callers that share a folder hold one lock around saves and loads (see service.matching)."""
    for path in (root / VERSIONS_DIR).iterdir():
        if path.name != keep:
            shutil.rmtree(path, ignore_errors=True)
    for path in root.iterdir():
        if path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
