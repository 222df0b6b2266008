"""Disclosure control of the public-use tables: suppression (pipelines/public_copy/suppression.py) against the
independent audit (pipelines/public_copy/audit.py), in both readings: (a) told which withheld
cells are small, no withheld cell can be pinned; (b) from the public copy alone (one flag), no
small count can be shown to be below K.

The 2020 tables: primary suppression alone leaks; a pattern that stands (a) alone shows nine
small counts to be small; the product's pattern passes the audit, and every one of its
secondary cells is needed. Random linked tables (hypothesis): the pattern always passes the
audit, and dropping any secondary cell makes it fail.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.public_copy.audit import audit, small_counts
from pipelines.public_copy.suppression import (
    LAYOUTS,
    PRIMARY,
    SECONDARY,
    WITHHELD,
    LinkedTables,
    TableLayout,
    apply_pattern,
    naive_pattern,
    primary_cells,
    suppress,
    suppressed_cells,
)
from tests.conftest import REFERENCE_2020

K = 10


def reference_tables() -> dict[str, pl.DataFrame]:
    """The 2020 reference of every table of the public copy the published page has."""
    return {
        table: pl.read_csv(REFERENCE_2020 / f"{table}.csv", schema_overrides={"percent_of_total": pl.Float64})
        for table in LAYOUTS
        if (REFERENCE_2020 / f"{table}.csv").is_file()
    }


def audit_of(tables, model, status, k=K, **options):
    """The audit of the public tables a pattern gives (options: layouts and links); the small
    counts from the exact tables."""
    listed = suppressed_cells(model, status)
    layouts = {"layouts": options["layouts"]} if "layouts" in options else {}
    small = small_counts(tables, k, **options)
    return audit(apply_pattern(tables, listed, **layouts), listed, k, small, **options)


@pytest.fixture(scope="module")
def tables_2020() -> dict[str, pl.DataFrame]:
    return reference_tables()


@pytest.fixture(scope="module")
def model_2020(tables_2020) -> LinkedTables:
    return LinkedTables.from_tables(tables_2020)


@pytest.fixture(scope="module")
def pattern_2020(model_2020):
    return suppress(model_2020, K)


def test_primary_cells_are_small_counts_of_children_not_zero(model_2020) -> None:
    primaries = [model_2020.cells[i] for i in primary_cells(model_2020, K)]
    assert ("missing_children_by_state", "Montana", "active") in primaries  # 1 active case
    assert ("missing_children_by_age_and_race", "Less than 1 to 2", "asian") in primaries
    assert ("missing_children_by_state", "Maine", "active") not in primaries  # zero is published
    assert ("missing_children_by_state", "Delaware", "active") not in primaries  # 10 = K is published
    assert all(cell[0] != "headline_metrics" for cell in primaries)  # no table of children
    assert len(primaries) == 34  # 32 category cells + Maine's and South Dakota's totals of 8


def test_primary_suppression_alone_leaks_in_2020(tables_2020, model_2020) -> None:
    result = audit_of(tables_2020, model_2020, naive_pattern(model_2020, K))
    derived = {i.cell for i in result.intervals if i.integer[0] == i.integer[1]}
    assert not result.passed
    assert len(derived) == 15
    assert ("missing_children_by_state", "Montana", "active") in derived
    assert ("missing_children_by_case_type", "Nonfamily Abduction", "active") in derived
    exactly = [p for p in result.problems if "can be derived exactly" in p]
    assert len(exactly) == 15
    assert "disclosure: missing_children_by_state, Montana, active can be derived exactly" in "\n".join(exactly)


def test_the_issue_figure_17_of_32_category_cells_follow_from_the_totals(tables_2020, model_2020) -> None:
    """Suppressing the 32 small category cells and publishing every total: 17 follow exactly
    (and the two small totals are published, which the audit says too)."""
    status = {i: PRIMARY for i in primary_cells(model_2020, K) if not model_2020.is_total[i]}
    result = audit_of(tables_2020, model_2020, status)
    assert len(status) == 32
    assert sum(i.integer[0] == i.integer[1] for i in result.intervals) == 17
    assert [p for p in result.problems if "published" in p] == [
        "disclosure: missing_children_by_state, Maine, total is a small count and published",
        "disclosure: missing_children_by_state, South Dakota, total is a small count and published",
    ]


def test_the_2020_pattern_passes_the_audit(tables_2020, model_2020, pattern_2020) -> None:
    result = audit_of(tables_2020, model_2020, pattern_2020.status)
    assert result.passed, result.problems
    figures = result.figures()
    assert {t: (f["primary"], f["secondary"]) for t, f in figures.items()} == {
        t: (
            sum(1 for i, s in pattern_2020.status.items() if model_2020.cells[i][0] == t and s == PRIMARY),
            sum(1 for i, s in pattern_2020.status.items() if model_2020.cells[i][0] == t and s == SECONDARY),
        )
        for t in figures
    }
    assert all(f["narrowest_interval"][1] > f["narrowest_interval"][0] for f in figures.values())
    # The population and the headline figures stay published.
    population = [c for c in model_2020.cells if c[2] == "total" and c[1] == "Total"]
    assert not any(model_2020.index[c] in pattern_2020.status for c in population)
    assert not any(model_2020.cells[i][0] == "headline_metrics" for i in pattern_2020.status)


def test_the_2020_pattern_is_reproducible(model_2020, pattern_2020) -> None:
    assert suppress(model_2020, K).status == pattern_2020.status


@pytest.mark.guard("disclosure_audit")
@pytest.mark.parametrize("position", [0, -1])
def test_dropping_a_secondary_cell_of_2020_fails_the_audit(tables_2020, model_2020, pattern_2020, position) -> None:
    secondary = sorted(i for i, s in pattern_2020.status.items() if s == SECONDARY)
    status = dict(pattern_2020.status)
    del status[secondary[position]]
    assert not audit_of(tables_2020, model_2020, status).passed


def test_a_pattern_not_found_within_the_rounds_is_an_error_not_a_hang(model_2020, monkeypatch) -> None:
    """The 2020 tables need 3 rounds; allowed 1, the suppressor gives up with a clear error
    (the asset withholds the public copy with it as the reason)."""
    import pipelines.public_copy.suppression as disclosure

    monkeypatch.setattr(disclosure, "MAX_ROUNDS", 1)
    with pytest.raises(disclosure.SuppressionError, match="no protecting suppression pattern found in 1 rounds"):
        suppress(model_2020, K)


def test_a_published_percent_reveals_its_count(tables_2020) -> None:
    """Suppressing a count but publishing its percent: the audit works the count out."""
    tables = {"offender_relationship_actively_traded": tables_2020["offender_relationship_actively_traded"]}
    model = LinkedTables.from_tables(tables)
    rows = ["Guardian's Partner", "Child Sex Trafficker"]
    listed = {("offender_relationship_actively_traded", r, "known_relationships"): WITHHELD for r in rows}
    public = apply_pattern(tables, listed)
    assert not audit(public, listed, K).passed
    # With the percents suppressed too, the two counts have an interval.
    listed |= {("offender_relationship_actively_traded", r, "percent_of_total"): WITHHELD for r in rows}
    result = audit(apply_pattern(tables, listed), listed, K)
    assert result.passed, result.problems
    assert model.values[model.index[("offender_relationship_actively_traded", rows[0], "known_relationships")]] == 56


def test_the_audit_refuses_an_inconsistent_list(tables_2020, model_2020, pattern_2020) -> None:
    listed = suppressed_cells(model_2020, pattern_2020.status)
    public = apply_pattern(tables_2020, listed)
    first = next(iter(listed))
    unlisted = {c: s for c, s in listed.items() if c != first}
    assert any("not listed" in p for p in audit(public, unlisted, K).problems)
    extra = listed | {("missing_children_by_state", "Texas", "active"): WITHHELD}
    assert any("but published" in p for p in audit(public, extra, K).problems)


def test_one_flag_for_every_withheld_cell(tables_2020, model_2020, pattern_2020) -> None:
    """The list flags every withheld cell alike: a second flag (the primary/secondary split of
    SDMX's C and D) would tell the small counts apart, and the audit refuses it."""
    listed = suppressed_cells(model_2020, pattern_2020.status)
    assert set(listed.values()) == {WITHHELD}
    public = apply_pattern(tables_2020, listed)
    small = small_counts(tables_2020, K)
    assert audit(public, listed, K, small).passed
    two_flags = {c: "C" if c in small else "D" for c in listed}
    assert [p for p in audit(public, two_flags, K, small).problems if "one flag" in p] == [
        f"disclosure: {', '.join(c)} has flag 'D', not C: one flag for every withheld cell"
        for c in sorted(two_flags)
        if two_flags[c] == "D"
    ]


def test_a_secondary_cell_is_known_not_to_be_small() -> None:
    """Wyoming 2020 (1 active, 10 resolved, 11 total): with the total published and the status
    list public, suppressing the resolved 10 (D: 0 or >= 10) next to the active 1 (C: 1..9)
    still gives both away; the pattern suppresses the total instead."""
    layout = {"t": TableLayout(("state",), ("active", "resolved", "total"), row_total="total", counts_children=True)}
    frame = pl.DataFrame(
        {
            "state": ["WY", "TX", "OH", "Total"],
            "active": [1, 226, 106, 333],
            "resolved": [10, 3362, 2153, 5525],
            "total": [11, 3588, 2259, 5858],
        }
    )
    tables = {"t": frame}
    model = LinkedTables.from_tables(tables, layouts=layout, links=())
    status = {
        model.index[("t", "WY", "active")]: PRIMARY,
        model.index[("t", "WY", "resolved")]: SECONDARY,
        model.index[("t", "TX", "active")]: SECONDARY,
        model.index[("t", "TX", "resolved")]: SECONDARY,
    }
    result = audit_of(tables, model, status, layouts=layout, links=())
    assert result.intervals[0].lp[1] > result.intervals[0].lp[0]  # the LP alone sees an interval
    assert not result.passed  # whole numbers and the D status do not
    pattern = suppress(model, K)
    assert audit_of(tables, model, pattern.status, layouts=layout, links=()).passed


STATES = {"t": TableLayout(("state",), ("active", "resolved", "total"), row_total="total", counts_children=True)}


def _withheld(model: LinkedTables, k: int, *cells: tuple[str, str]) -> dict[int, str]:
    """A pattern by (row, column), each cell's role from its value."""
    indices = [model.index[("t", row, column)] for row, column in cells]
    return {i: PRIMARY if 0 < model.values[i] < k else SECONDARY for i in indices}


def test_a_small_count_the_public_copy_caps_below_k_fails_the_audit() -> None:
    """Told nothing but the one flag, an attacker still adds up: a row of 15 with 10 published
    and its 3 and 2 withheld caps both at 5, below K, although neither is pinned when he is told
    they are small (1..4 each). The suppressor withholds one cell more."""
    tables = {
        "t": pl.DataFrame(
            {
                "state": ["A", "B", "Total"],
                "x": [3, 40, 43],
                "y": [2, 30, 32],
                "z": [10, 20, 30],
                "total": [15, 90, 105],
            }
        )
    }
    layout = {"t": TableLayout(("state",), ("x", "y", "z", "total"), row_total="total", counts_children=True)}
    model = LinkedTables.from_tables(tables, layouts=layout, links=())
    options = {"layouts": layout, "links": ()}
    status = {model.index[("t", "A", c)]: PRIMARY for c in ("x", "y")}
    status |= {model.index[("t", "B", c)]: SECONDARY for c in ("x", "y")}
    result = audit_of(tables, model, status, **options)
    assert [i.width > 0 for i in result.intervals] == [True] * 4  # (a) pins nothing
    assert result.problems == [
        "disclosure: t, A, x, a small count, can be shown to be below K = 10 from the public release",
        "disclosure: t, A, y, a small count, can be shown to be below K = 10 from the public release",
    ]
    assert result.exposed == ("t, A, x", "t, A, y")
    pattern = suppress(model, K)
    fixed = audit_of(tables, model, pattern.status, **options)
    assert fixed.passed, fixed.problems
    assert fixed.figures()["t"]["smallest_maximum"] >= K


def test_a_small_row_total_the_public_copy_caps_below_k_fails_the_audit() -> None:
    """A state's 5 cases and another's 3, all resolved: withholding both rows' resolved and
    total cells passes the cautious reading but caps each total at 8 (5 + 3), below K."""
    tables = {
        "t": pl.DataFrame(
            {
                "state": ["ME", "VT", "TX", "Total"],
                "active": [0, 0, 226, 226],
                "resolved": [5, 3, 3362, 3370],
                "total": [5, 3, 3588, 3596],
            }
        )
    }
    options = {"layouts": STATES, "links": ()}
    model = LinkedTables.from_tables(tables, **options)
    status = _withheld(model, K, ("ME", "resolved"), ("ME", "total"), ("VT", "resolved"), ("VT", "total"))
    result = audit_of(tables, model, status, **options)
    assert all(i.width > 0 for i in result.intervals)
    assert "t, ME, total" in result.exposed and "t, VT, total" in result.exposed
    assert all("can be shown to be below K = 10" in p for p in result.problems)
    pattern = suppress(model, K)
    assert audit_of(tables, model, pattern.status, **options).passed


def test_a_pattern_that_stands_only_the_cautious_reading_shows_nine_2020_counts_small(
    tables_2020, model_2020, pattern_2020, monkeypatch
) -> None:
    """The 2020 pattern that protects the small counts only against an attacker told which
    cells are small (34 + 15 cells, the product before the one flag): from the public copy
    alone, nine small counts of the age and race table add up to at most 6 or 7. The product's
    pattern (one cell more) leaves every small count a largest value of at least K."""
    import pipelines.public_copy.suppression as suppression

    monkeypatch.setattr(suppression._Attacker, "public_cuts", lambda self: [])
    cautious_only = suppress(model_2020, K)
    assert len(cautious_only.status) == 49
    result = audit_of(tables_2020, model_2020, cautious_only.status)
    assert len(result.exposed) == 9
    assert all(name.startswith("missing_children_by_age_and_race, ") for name in result.exposed)
    assert all("can be shown to be below K" in p for p in result.problems)
    assert len(pattern_2020.status) == 50
    result = audit_of(tables_2020, model_2020, pattern_2020.status)
    assert result.passed
    assert result.joint()["smallest_maximum"] >= K


def test_a_sparse_table_of_small_counts_loses_its_totals_in_a_few_rounds() -> None:
    """Ten children in an 8 x 7 table of zeros (the shape of a tiny export): every count is
    small and at least 1 and they add up to the published 10, so each is pinned. No published
    zero can help (suppressing one only lets the others shrink, and they are at 1 already), so
    the pattern must suppress totals. Cuts that named every published cell of the proof made
    the master problem add the zeros one round at a time (it ran for hours); the Lagrangian
    cuts find the pattern in a few rounds."""
    columns = [f"c{j}" for j in range(7)]
    layout = {"t": TableLayout(("label",), (*columns, "total"), row_total="total", counts_children=True)}
    rows = [[0] * 7 for _ in range(8)]
    for r, c in [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 0), (0, 3), (2, 5)]:
        rows[r][c] += 1
    tables = {"t": _frame(rows, columns)}
    model = LinkedTables.from_tables(tables, layouts=layout, links=())
    pattern = suppress(model, K)
    assert pattern.iterations <= 5
    assert not any(model.values[i] == 0 for i in pattern.status)  # no zero was suppressed
    assert any(model.is_total[i] and model.values[i] >= K for i in pattern.status)
    assert audit_of(tables, model, pattern.status, layouts=layout, links=()).passed


# ------------------------------------------------------------------------------------------
# Random linked tables: two "active/resolved by category" tables sharing their Total row and a
# "category by category" table sharing the grand total (the shape of the 2020 tables).
# ------------------------------------------------------------------------------------------

RANDOM_LAYOUTS = {
    "a": TableLayout(("label",), ("active", "resolved", "total"), row_total="total", counts_children=True),
    "b": TableLayout(("label",), ("active", "resolved", "total"), row_total="total", counts_children=True),
    "c": TableLayout(("label",), ("x", "y", "z", "total"), row_total="total", counts_children=True),
}
RANDOM_LINKS = (
    (("a", "Total", "total"), ("b", "Total", "total"), ("c", "Total", "total")),
    (("a", "Total", "active"), ("b", "Total", "active")),
    (("a", "Total", "resolved"), ("b", "Total", "resolved")),
)
count = st.integers(0, 25)


def _frame(rows: list[list[int]], columns: list[str]) -> pl.DataFrame:
    labels = [f"r{i}" for i in range(len(rows))] + ["Total"]
    totals = [sum(col) for col in zip(*rows)]
    data = {"label": labels}
    for j, column in enumerate(columns):
        data[column] = [row[j] for row in rows] + [totals[j]]
    data["total"] = [sum(row) for row in rows] + [sum(totals)]
    return pl.DataFrame(data)


@st.composite
def linked_tables(draw) -> dict[str, pl.DataFrame]:
    """Random counts, many of them small, consistent across the three tables."""
    a = draw(st.lists(st.lists(count, min_size=2, max_size=2), min_size=2, max_size=4))
    active = sum(r[0] for r in a)
    resolved = sum(r[1] for r in a)
    n_b = draw(st.integers(2, 4))

    # Split the same Active and Resolved totals over the rows of b, and the grand total over c.
    def split(total: int, parts: int) -> list[int]:
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
        return [hi - lo for lo, hi in zip([0, *cuts], [*cuts, total])]

    b = [list(r) for r in zip(split(active, n_b), split(resolved, n_b))]
    n_c = draw(st.integers(2, 3))
    grand = active + resolved
    cells = split(grand, n_c * 3)
    c = [cells[i * 3 : (i + 1) * 3] for i in range(n_c)]
    return {
        "a": _frame(a, ["active", "resolved"]),
        "b": _frame(b, ["active", "resolved"]),
        "c": _frame(c, ["x", "y", "z"]),
    }


OPTIONS = {"layouts": RANDOM_LAYOUTS, "links": RANDOM_LINKS}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_random_linked_tables_pass_the_audit(tables) -> None:
    model = LinkedTables.from_tables(tables, **OPTIONS)
    pattern = suppress(model, K)
    assert set(primary_cells(model, K)) <= set(pattern.status)
    result = audit_of(tables, model, pattern.status, **OPTIONS)
    assert result.passed, result.problems


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_random_patterns_need_every_secondary_cell(tables) -> None:
    model = LinkedTables.from_tables(tables, **OPTIONS)
    pattern = suppress(model, K)
    for cell, code in pattern.status.items():
        if code == SECONDARY:
            fewer = {i: s for i, s in pattern.status.items() if i != cell}
            assert not audit_of(tables, model, fewer, **OPTIONS).passed, model.cells[cell]
