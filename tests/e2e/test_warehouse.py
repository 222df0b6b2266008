"""The warehouse works within its memory limit, spilling under the warehouse folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.definitions import build_resources
from pipelines.defs.resources import Warehouse
from tests.conftest import folders_in

YEAR = 2020


def _settings(warehouse: Warehouse) -> tuple[str, str]:
    with warehouse.connect(YEAR) as con:
        return con.sql("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchall()[0]


def test_default_limit_and_spill_folder_under_the_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMPACT_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("IMPACT_DUCKDB_SPILL_DIR", raising=False)
    warehouse = build_resources(folders_in(tmp_path))["warehouse"]
    limit, spill = _settings(warehouse)
    assert limit == "512.0 MiB"
    assert Path(spill) == (tmp_path / "warehouse" / "spill" / str(YEAR)).resolve()


def test_environment_sets_limit_and_spill_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPACT_DUCKDB_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("IMPACT_DUCKDB_SPILL_DIR", str(tmp_path / "scratch"))
    limit, spill = _settings(build_resources(folders_in(tmp_path))["warehouse"])
    assert limit == "286.1 MiB"  # DuckDB shows 300 MB in MiB
    assert Path(spill) == (tmp_path / "scratch" / str(YEAR)).resolve()


def test_aggregation_larger_than_the_limit_spills_and_completes(tmp_path: Path) -> None:
    """A hash aggregation over 4 million distinct ids needs well over 32 MB: within the limit it
    spills to the year's spill folder instead of failing, and gives the exact answer."""
    warehouse = Warehouse(directory=str(tmp_path), memory_limit="32MB", threads=1)
    ids = "SELECT (range * 7919) % 4000037 AS id FROM range(4000000)"  # distinct, in no order
    with warehouse.connect(YEAR) as con:
        repeated = con.sql(f"SELECT count(*) FROM (SELECT id FROM ({ids}) GROUP BY id HAVING count(*) > 1)")
        assert repeated.fetchall() == [(0,)]
        with pytest.raises(Exception, match="Out of Memory"):
            # What the limit is for: the same aggregation kept in memory does not fit.
            con.sql(f"SELECT count(DISTINCT id) FROM ({ids})").fetchall()
    assert not any((tmp_path / "spill").rglob("*.tmp"))  # DuckDB removed its spill files
