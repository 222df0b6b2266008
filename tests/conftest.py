"""Shared fixtures: folders of a run in tmp_path and the reference figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.config import Folders

REPO = Path(__file__).resolve().parents[1]
REFERENCE_ROOT = Path(os.environ.get("IMPACT_REFERENCE_DIR", REPO.parent / "shared" / "reference"))


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
    folder = REFERENCE_ROOT / "2020"
    if not folder.is_dir():
        pytest.skip(f"reference figures not found at {folder} (set IMPACT_REFERENCE_DIR)")
    return folder
