"""Fixtures of the matching engine's tests: the small glossary as a file and loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.glossary import Glossary
from tests.helpers.engine import GLOSSARY_YAML


@pytest.fixture
def glossary_path(tmp_path: Path) -> Path:
    path = tmp_path / "glossary.yaml"
    path.write_text(GLOSSARY_YAML, encoding="utf-8")
    return path


@pytest.fixture
def glossary(glossary_path: Path) -> Glossary:
    return Glossary.load(glossary_path)
