"""A blocking check that fails stops the year's job: nothing is published and the failure names
the table, the row, the column and both values (the rules themselves are tested without Dagster
in tests/validation/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.config import Folders
from pipelines.runner import run_year
from tests.validation.test_second_computation import WRONG_RULES, YEAR, exports, use_wrong_rule


def test_a_wrong_business_rule_fails_second_computation_and_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sql_file, right, wrong, fragments = WRONG_RULES[0]  # status as of December 1
    use_wrong_rule(monkeypatch, tmp_path / "sql", sql_file, right, wrong)
    exports().write(tmp_path / "raw")

    outcome = run_year(
        YEAR,
        Folders(str(tmp_path / "raw"), str(tmp_path / "published"), str(tmp_path / "warehouse")),
        log_level="WARNING",
    )

    assert not outcome.success
    assert not (tmp_path / "published" / str(YEAR)).exists()
    text = "\n".join(outcome.failures)
    assert ":second_computation failed" in text
    assert ":schema_and_totals failed" not in text  # the tables still add up
    for fragment in fragments:
        assert fragment in text, text
