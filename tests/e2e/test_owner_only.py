"""Owner-only at rest, one `impact run` through the real definitions and the project's Dagster
instance (dagster.yaml, .dagster/ in the working folder): afterwards nothing under the warehouse
folder or the instance can be read by other users, while the release has the modes of the user's
umask; a raw folder others can read gets one line on stderr and one warning in the run's log.

The functions that create the folders and files, and the umask a process starts with, are tested
in tests/core/test_modes.py."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.core.config import ENV_PUBLISHED_UMASK, REPO_ROOT
from tests.exports import YearExports


def walk(root: Path) -> list[tuple[Path, int]]:
    """Every folder and file under ``root`` (and ``root``), with its mode; links left out."""
    paths = [root, *root.rglob("*")]
    return [(p, stat.S_IMODE(p.lstat().st_mode)) for p in paths if not p.is_symlink()]


def test_a_run_leaves_the_warehouse_and_the_instance_private_and_the_release_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME")
    for variable in ("IMPACT_RAW_DIR", "IMPACT_PUBLISHED_DIR", "IMPACT_WAREHOUSE_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(ENV_PUBLISHED_UMASK, "022")
    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    raw_year = YearExports.small(2020).write(tmp_path / "raw")
    raw_year.chmod(0o755)  # an export job's folder, readable by others

    result = CliRunner().invoke(main, ["run", "--year", "2020"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    warning = (
        f"impact run: warning: the raw folder {raw_year} is open to other users (mode 0755): what it "
        f"holds is confidential; make it the owner's alone with chmod 700 {raw_year}"
    )
    assert result.stderr.splitlines() == [warning]
    private = walk(tmp_path / "warehouse") + walk(tmp_path / ".dagster")
    assert len(private) > 40 and {p.name for p, _ in private} >= {"2020.duckdb", "runs.db", "data_docs", "logs"}
    assert [(p, oct(m)) for p, m in private if m & 0o077] == []
    published = walk(tmp_path / "published")
    assert len(published) > 40
    assert [(p, oct(m)) for p, m in published if m != (0o755 if p.is_dir() else 0o644)] == []
    logs = list((tmp_path / "warehouse" / "logs").glob("2020-*.log"))
    assert len(logs) == 2  # the accepting run's and the publishing run's
    for log in logs:
        assert warning.removeprefix("impact run: warning: ") in log.read_text(encoding="utf-8")
