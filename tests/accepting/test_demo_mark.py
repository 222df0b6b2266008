"""The demo mark travels with the content: the ingest names an export as the demo generator's
only when its ingested SHA-256 is the one the generator recorded (pipelines/accepting/ingest.py
``demo_exports``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.accepting.ingest import IngestedExport, RawExportError, demo_exports
from pipelines.core.contract import DEMO_MARKER
from pipelines.core.files import sha256_file, signature
from pipelines.demo import marker


def ingested(folder: Path, *names: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in names:
        path = folder / name
        IngestedExport(path, sha256_file(path), 1, signature(path.stat()), time.time_ns()).record(con)
    return con


def test_only_the_generators_files_are_marked(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text("demo\n")
    (tmp_path / "cvip_requests.csv").write_text("demo\n")
    marker.write(tmp_path, [tmp_path / "cases.csv", tmp_path / "cvip_requests.csv"])
    (tmp_path / "cvip_requests.csv").write_text("a real export\n")  # replaced after the generator
    con = ingested(tmp_path, "cases.csv", "cvip_requests.csv")
    assert demo_exports(con, tmp_path) == ["cases.csv"]


def test_no_marker_means_not_synthetic(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text("real\n")
    assert demo_exports(ingested(tmp_path, "cases.csv"), tmp_path) == []


@pytest.mark.guard("demo_mark")
def test_a_marker_that_is_not_the_generators_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text("real\n")
    (tmp_path / DEMO_MARKER).write_text(json.dumps({"sha256": ["cases.csv"]}))
    with pytest.raises(RawExportError, match=f"^{DEMO_MARKER}: not the demo generator's record"):
        demo_exports(ingested(tmp_path, "cases.csv"), tmp_path)
