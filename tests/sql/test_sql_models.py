"""What a SQL model reads is read from its SQL (pipelines/core/sql_models.py): DuckDB's own parser
(``json_serialize_sql``) lists the tables a SELECT reads, without running it, and each is a
dependency of the model's asset. A table that nothing writes is refused by name: it would
otherwise read last run's table from the persistent warehouse file, silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.sql_models import PreviousYearInput, SqlModel, models, tables_read


def model_of(tmp_path: Path, sql: str, name: str = "new_table") -> SqlModel:
    path = tmp_path / f"{name}.sql"
    path.write_text(sql, encoding="utf-8")
    return SqlModel(name=name, layer="published", path=path, header="")


def test_the_tables_a_select_reads_are_found_without_its_common_table_expressions() -> None:
    sql = (
        "WITH x AS (SELECT * FROM stg_cases), y AS (SELECT * FROM x JOIN seed_races USING (race)) "
        "SELECT * FROM y WHERE case_type IN (SELECT code FROM seed_case_types) "
        "UNION ALL SELECT * FROM (UNPIVOT missing_children_by_state ON active, resolved INTO NAME s VALUE v)"
    )
    assert tables_read(sql) == {"stg_cases", "seed_races", "seed_case_types", "missing_children_by_state"}


def test_a_model_depends_on_the_assets_that_write_what_it_reads(tmp_path: Path) -> None:
    model = model_of(
        tmp_path,
        "SELECT * FROM stg_missing_children JOIN seed_age_groups USING (x) "
        "JOIN raw_cybertipline_reports_groups USING (y) JOIN missing_children_by_case_type USING (z)",
    )
    assert model.depends_on == (
        "missing_children_by_case_type",
        "raw_cybertipline_reports",
        "seeds",
        "stg_missing_children",
    )
    assert model.previous_year is None


def test_a_table_nothing_writes_is_refused_naming_the_file(tmp_path: Path) -> None:
    model = model_of(tmp_path, "SELECT * FROM stg_missing_childern JOIN seed_races USING (race)")
    with pytest.raises(ValueError, match=r"new_table\.sql: reads stg_missing_childern, which no model"):
        _ = model.depends_on


def test_last_years_release_is_read_as_previous_year_table(tmp_path: Path) -> None:
    model = model_of(
        tmp_path, "SELECT * FROM missing_children_by_case_type, previous_year_missing_children_by_case_type"
    )
    assert model.previous_year == PreviousYearInput("missing_children_by_case_type")
    assert model.depends_on == ("missing_children_by_case_type",)


def test_sql_that_does_not_parse_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not one SELECT DuckDB can parse"):
        _ = model_of(tmp_path, "SELEC * FROM stg_cases").depends_on


def test_every_model_of_the_project_reads_only_what_an_asset_writes() -> None:
    found = {m.name: m.depends_on for layer in ("staging", "published") for m in models(layer)}
    assert found["stg_cybertipline_report_counts"] == ("raw_cybertipline_reports",)
    assert found["missing_children_by_state"] == ("seeds", "stg_missing_children")
    headline = next(m for m in models("published") if m.name == "headline_metrics")
    assert headline.previous_year == PreviousYearInput("headline_metrics")
