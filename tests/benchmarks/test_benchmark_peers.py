"""The benchmark's peers (benchmarks/peers.py: the bare DuckDB floor, polars streaming, pandas)
compute the same totals and bad rows on a tiny export, defects included, so that `make bench`
compares the pipeline with programs that do the same work. No timing: the benchmark is a script."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks import peers
from tests.exports import REPORT_SCHEMA, report


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [
        report(1, esp_name="Facebook", images=2),
        report(2, esp_name="Facebook", country=None, videos=3),
        report(3, reporter_type="PUBLIC"),
        report(3, esp_name="Facebook"),  # a repeated id
        report(5, esp_name="Facebook", received_at=datetime(2021, 1, 1, tzinfo=UTC)),  # after 2020
        report(6, esp_name="Facebook", incident_type="SPAM"),  # not a code of the contract
        report(7, esp_name="Facebook", videos=-1),  # a negative count
    ]
    path = tmp_path_factory.mktemp("peers") / "cybertipline_reports.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=REPORT_SCHEMA), path)
    return path


@pytest.mark.parametrize("peer", sorted(peers.PEERS))
def test_every_peer_computes_the_same_totals_and_bad_rows(peer: str, export: Path) -> None:
    assert peers.PEERS[peer](str(export), 2020) == {
        "reports": 7,
        "public_reports": 1,
        "esps": 1,
        "countries": 1,
        "images": 8,
        "videos": 2,
        "other_files": 0,
        "bad_rows": 4,
    }
