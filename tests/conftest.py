"""Shared fixtures: folders of a run in tmp_path and the reference figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.config import Folders

REPO = Path(__file__).resolve().parents[1]
REFERENCE_2020 = REPO / "tests" / "reference" / "2020"
"""The 2020 published figures, kept in the repository (tests/reference/README.md)."""


def folders_in(root: Path) -> Folders:
    return Folders(
        raw_dir=str(root / "raw"),
        published_dir=str(root / "published"),
        warehouse_dir=str(root / "warehouse"),
    )


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    return folders_in(tmp_path)


@pytest.fixture(scope="session")
def reference_2020() -> Path:
    return REFERENCE_2020
