"""A file's signature tells the release, without reading the file, that its bytes are the bytes
ingested (pipelines/core/files.py ``same_bytes``); anything else reads the file again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import pipelines.core.files
from pipelines.core.files import same_bytes, sha256_file, signature


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files ``same_bytes`` reads again."""
    read: list[Path] = []

    def counting(path: Path) -> str:
        read.append(path)
        return sha256_file(path)

    monkeypatch.setattr(pipelines.core.files, "sha256_file", counting)
    return read


def recorded(path: Path) -> tuple[tuple[int, int, int], int, str]:
    return signature(path.stat()), time.time_ns(), sha256_file(path)


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, hashed: list[Path], monkeypatch) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("case_id\nc1\n")
    monkeypatch.setattr(pipelines.core.files, "RECENT_NS", 0)  # as if written long before it was ingested
    assert same_bytes(path, *recorded(path))
    assert hashed == []


@pytest.mark.parametrize("content", ["case_id\nc2\n", "case_id\nc1\n"], ids=["other bytes, same size", "same bytes"])
def test_a_file_written_to_since_is_read_again(tmp_path: Path, hashed: list[Path], monkeypatch, content) -> None:
    """Any write changes the file's ctime, whatever its size and mtime: the SHA-256 decides."""
    path = tmp_path / "cases.csv"
    path.write_text("case_id\nc1\n")
    monkeypatch.setattr(pipelines.core.files, "RECENT_NS", 0)
    before = recorded(path)
    time.sleep(0.01)
    path.write_text(content)
    assert same_bytes(path, *before) == (content == "case_id\nc1\n")
    assert hashed == [path]


def test_a_file_changed_just_before_its_signature_was_taken_is_read_again(tmp_path: Path, hashed: list[Path]) -> None:
    """A coarse file system clock may not tell a second write within its tick from the first."""
    path = tmp_path / "cases.csv"
    path.write_text("case_id\nc1\n")
    assert same_bytes(path, *recorded(path))
    assert hashed == [path]


def test_a_file_gone_or_replaced_by_a_folder_is_changed(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("case_id\nc1\n")
    before = recorded(path)
    path.unlink()
    assert not same_bytes(path, *before)
    path.mkdir()
    assert not same_bytes(path, *before)
