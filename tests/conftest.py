"""Shared fixtures: folders of a run in tmp_path and the reference figures."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.core.config import Folders
from pipelines.guards import DECLARED

REPO = Path(__file__).resolve().parents[1]
REFERENCE_2020 = REPO / "tests" / "reference" / "2020"
"""The 2020 published figures, kept in the repository (tests/reference/README.md)."""


IMPACT = [sys.executable, "-m", "pipelines.cli"]
"""The `impact` command as a process of this interpreter (tests that kill or race real runs)."""


def run_args(folders: Folders, *years: int) -> list[str]:
    """The arguments of `impact run` over ``folders`` for ``years``."""
    args = [
        "run",
        "--raw-dir",
        folders.raw_dir,
        "--out-dir",
        folders.published_dir,
        "--warehouse-dir",
        folders.warehouse_dir,
    ]
    for year in years:
        args += ["--year", str(year)]
    return args


def folders_in(root: Path) -> Folders:
    return Folders(
        raw_dir=str(root / "raw"),
        published_dir=str(root / "published"),
        warehouse_dir=str(root / "warehouse"),
    )


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    return folders_in(tmp_path)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A Dagster instance in memory, for an in-process run no test reads from the instance
    afterwards: the session's (SQLite, on disk) costs about two CPU-seconds more per run. The run's
    log file and its alert line are written from it as from the project's instance."""
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture(scope="session")
def reference_2020() -> Path:
    return REFERENCE_2020


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every run of the session, in-process or an ``impact run`` process, is recorded in a
    Dagster instance of its own: never in the project's (.dagster/, or the tester's DAGSTER_HOME)."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    # Its storage created here, once: two `impact run` processes started together (a backfill)
    # would otherwise both create its SQLite tables, and one fails.
    with dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)
        instance.all_instigator_state()
        instance.fetch_run_status_changes(dg.DagsterEventType.RUN_SUCCESS, limit=1)
    yield home
    if before is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = before


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked ``@pytest.mark.guard(name)`` names a guard pipelines/guards.py declares."""
    declared = {d.name for d in DECLARED}
    unknown = sorted({m.args[0] for item in items for m in item.iter_markers("guard")} - declared)
    if unknown:
        raise pytest.UsageError(f"tests marked for guards that pipelines/guards.py does not declare: {unknown}")
