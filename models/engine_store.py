"""The engine's documents on disk, beside its vector indexes, with the catalog generation.

The BM25 index and glossary annotations are rebuilt from these documents on load (about a
second for 4,750 listings), so only the documents and the vectors are saved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.documents import Document
from models.vector_index import IndexMismatch, write_atomic

DOCUMENTS_FILE = "documents.json"


def save_documents(folder: Path, documents: list[Document], generation: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"generation": generation, "documents": [_to_json(d) for d in documents]}
    write_atomic(folder / DOCUMENTS_FILE, json.dumps(payload, ensure_ascii=False).encode())


def load_documents(folder: Path, generation: int) -> list[Document]:
    try:
        payload = json.loads((folder / DOCUMENTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexMismatch(f"no readable documents in {folder}: {error}") from None
    if payload.get("generation") != generation:
        raise IndexMismatch(
            f"saved documents are generation {payload.get('generation')!r}, expected {generation}"
        )
    return [_from_json(raw) for raw in payload["documents"]]


def _to_json(document: Document) -> dict[str, Any]:
    return {
        "id": document.id, "title": document.title,
        "sections": [list(section) for section in document.sections],
        "facets": {key: sorted(values) for key, values in document.facets.items()},
        "priors": dict(document.priors),
    }


def _from_json(raw: dict[str, Any]) -> Document:
    return Document(
        id=raw["id"], title=raw["title"],
        sections=tuple((kind, text) for kind, text in raw["sections"]),
        facets={key: frozenset(values) for key, values in raw["facets"].items()},
        priors={key: float(value) for key, value in raw["priors"].items()},
    )
