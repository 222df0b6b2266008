"""The guard registry (pipelines/guards.py) is complete and every guard in it can fail.

Each guard names the test whose input makes it fail; that test must exist and carry
``@pytest.mark.guard("<name>")``, so renaming or deleting it, or pointing a guard at a test
about something else, fails here. Every Dagster check of the code location is declared in the
registry (its spec's description comes from there), and nothing is declared that does not run.
"""

from __future__ import annotations

import importlib

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.guards import DECLARED, check_keys, guards, guards_of
from pipelines.tables import specs

NAMED = sorted({(d.name, d.failing_test) for d in DECLARED})


def guard_marks(failing_test: str) -> set[str]:
    """The guards a test is marked for (KeyError/AttributeError when it does not exist)."""
    path, _, name = failing_test.partition("::")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    test = getattr(module, name)
    return {mark.args[0] for mark in getattr(test, "pytestmark", []) if mark.name == "guard"}


@pytest.mark.parametrize(("guard", "failing_test"), NAMED, ids=[name for name, _ in NAMED])
def test_every_guard_names_an_existing_test_marked_for_it(guard: str, failing_test: str) -> None:
    assert guard in guard_marks(failing_test), f"{failing_test} is not marked @pytest.mark.guard({guard!r})"


def test_every_check_of_the_code_location_is_declared_once() -> None:
    graph = build_definitions().resolve_asset_graph()
    running = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert running == check_keys()
    assert len({(g.name, g.asset) for g in guards()}) == len(guards())


def test_every_check_description_is_the_registrys() -> None:
    graph = build_definitions().resolve_asset_graph()
    for key in graph.asset_check_keys:
        declared = next(g for g in guards() if (g.asset, g.name) == (key.asset_key.to_user_string(), key.name))
        assert graph.get_check_spec(key).description.startswith(declared.proves)


def test_every_published_table_is_guarded_by_its_schema_and_its_second_computation() -> None:
    for name in ("schema_and_totals", "second_computation"):
        assert [g.asset for g in guards() if g.name == name] == list(specs())


STATE_TOTAL = [
    "export_contract",
    "complete_ingest",
    "schema_and_totals",
    "second_computation",
    "shared_cells",
    "within_previous_year_band",
    "disclosure_audit",
    "all_checks_ran",
    "raw_unchanged_since_ingest",
    "exports_accepted",
    "demo_mark",
    "golden_2020",
]


def test_impact_guards_lists_every_guard_of_a_cell_with_its_failing_test() -> None:
    result = CliRunner().invoke(main, ["guards", "missing_children_by_state", "--row", "Total", "--column", "total"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"missing_children_by_state, row Total, column total: {len(STATE_TOTAL)} guards")
    assert [line.split()[0] for line in lines[1::2]] == STATE_TOTAL
    for line, guard in zip(lines[2::2], guards_of("missing_children_by_state", "Total", "total"), strict=False):
        assert line.split() == ["fails", "in", guard.failing_test]
    assert len(lines) <= 40  # one screen


def test_impact_guards_names_the_equal_cell_through_which_a_guard_reaches_it() -> None:
    result = CliRunner().invoke(main, ["guards", "missing_children_by_state", "--row", "Total", "--column", "total"])
    band = next(line for line in result.output.splitlines() if line.split()[0] == "within_previous_year_band")
    assert "equal to headline_metrics[missing_children_cases_assisted/year, value]" in band
    assert "the row count of cases.csv" in band


def test_a_cell_of_another_table_is_not_guarded_by_its_checks() -> None:
    names = {(g.name, g.asset) for g in guards_of("missing_children_by_state", "Texas", "total")}
    assert ("schema_and_totals", "missing_children_by_state") in names
    assert ("schema_and_totals", "missing_children_by_case_type") not in names
    assert ("within_previous_year_band", "headline_metrics") in names  # through cases.csv's row count
    assert "consistent_with_previous_year" not in {name for name, _ in names}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "'nope' is not one of"),
        (["missing_children_by_state", "--column", "nope"], "has no column 'nope'"),
        (["missing_children_by_state", "--row", "Atlantis"], "has no row 'Atlantis'"),
    ],
)
def test_impact_guards_refuses_what_the_table_does_not_have(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["guards", *args])
    assert result.exit_code == 2
    assert message in result.output
