"""A revised year: its public releases are attacked together (pipelines/public_copy/audit.py
``joint_audit``) and a revision's suppression keeps every cell suppressed earlier
(pipelines/public_copy/suppression.py ``Revision``).

The 2020 tables: moving one resolved case out of Wyoming (1 active, 10 resolved) makes its
published 10 a small count; suppressed from scratch, the two releases side by side give four
suppressed cells away, and no pattern of the revision can protect its resolved count (the earlier
release published 10, the status says 1..9, the largest change is 1). Other moves pass. Linked
tables whose revision leaks when suppressed from scratch pass when the earlier cells are kept.
Random small revisions of random linked tables: the product's revision passes the joint audit,
or the suppressor refuses and then even suppressing every cell of the revision would not pass.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.public_copy.audit import THIS_RELEASE, PublicRelease, audit, joint_audit, small_counts
from pipelines.public_copy.suppression import (
    PRIMARY,
    SECONDARY,
    Earlier,
    LinkedTables,
    Revision,
    SuppressionError,
    apply_pattern,
    primary_cells,
    suppress,
    suppressed_cells,
)
from pipelines.public_copy.tables import max_changes
from tests.public_copy.test_disclosure import OPTIONS, K, _frame, linked_tables, reference_tables

STATE = "missing_children_by_state"


def move(tables: dict[str, pl.DataFrame], source: str, target: str, column: str = "resolved"):
    """One case of ``column`` moved from state ``source`` to state ``target`` (the Total row,
    the case-type and the age/race tables do not change)."""

    def shifted(name: str) -> pl.Expr:
        state = pl.col("missing_state")
        return (
            pl.when(state == source)
            .then(pl.col(name) - 1)
            .when(state == target)
            .then(pl.col(name) + 1)
            .otherwise(pl.col(name))
            .alias(name)
        )

    return {**tables, STATE: tables[STATE].with_columns(shifted(column), shifted("total"))}


def four_states(tables: dict[str, pl.DataFrame], names: list[str]) -> dict[str, pl.DataFrame]:
    """The state table cut to four states and their Total: an audit of the whole 2020 tables with
    every cell withheld takes about 300 linear programs and as many MILPs more."""
    states = tables[STATE].filter(pl.col("missing_state").is_in(names))
    total = states.select(
        pl.col("year").first(), pl.lit("Total").alias("missing_state"), pl.col("active", "resolved", "total").sum()
    )
    return {STATE: pl.concat([states, total])}


def every_cell(model: LinkedTables) -> dict[int, str]:
    """The widest pattern: every cell withheld, each in its role."""
    primary = set(primary_cells(model, K))
    return {i: PRIMARY if i in primary else SECONDARY for i in range(len(model.cells))}


class Releases:
    """Public releases of one year made one after the other, as the product makes them."""

    def __init__(self, k: int = K, **options) -> None:
        self.k, self.options = k, options
        self.exact: list[dict[str, pl.DataFrame]] = []
        self.public: list[PublicRelease] = []
        self.models: list[LinkedTables] = []
        self.statuses: list[dict[int, str]] = []

    def revision(self, tables) -> tuple[LinkedTables, Revision | None]:
        model = LinkedTables.from_tables(tables, **self.options)
        if not self.exact:
            return model, None
        earlier = [
            Earlier(m, s, self.k, f"release {r + 1}") for r, (m, s) in enumerate(zip(self.models, self.statuses))
        ]
        return model, Revision.of(model, earlier, self.changes(tables), self.k)

    def changes(self, tables) -> dict[tuple[int, int], int]:
        return max_changes([*self.exact, tables], **self.options)

    def pattern(self, tables, from_scratch: bool = False) -> dict[int, str]:
        model, revision = self.revision(tables)
        return suppress(model, self.k, None if from_scratch else revision).status

    def release(self, tables, status: dict[int, str]) -> PublicRelease:
        model = LinkedTables.from_tables(tables, **self.options)
        listed = suppressed_cells(model, status)
        layouts = {"layouts": self.options["layouts"]} if "layouts" in self.options else {}
        name = f"release {len(self.public) + 1}"
        small = small_counts(tables, self.k, **self.options)
        return PublicRelease(name, apply_pattern(tables, listed, **layouts), listed, self.k, small)

    def audit_with(self, tables, status: dict[int, str]):
        """The joint audit of the earlier releases and the one ``status`` would publish."""
        return joint_audit([*self.public, self.release(tables, status)], self.changes(tables), **self.options)

    def publish(self, tables, status: dict[int, str] | None = None) -> dict[int, str]:
        status = self.pattern(tables) if status is None else status
        result = self.audit_with(tables, status)
        assert result.passed, result.problems
        self.public.append(self.release(tables, status))
        self.exact.append(tables)
        self.models.append(LinkedTables.from_tables(tables, **self.options))
        self.statuses.append(status)
        return status


@pytest.fixture(scope="module")
def first_2020():
    releases = Releases()
    tables = reference_tables()
    releases.publish(tables)
    return releases, tables


def test_the_issue_scenario_from_scratch_gives_four_cells_away(first_2020) -> None:
    """Wyoming 1/10/11 becomes 1/9/10. Each release passes alone; side by side, with no cell
    moved by more than 1, Wyoming's active and resolved counts follow in both releases."""
    releases, tables = first_2020
    revised = move(tables, "Wyoming", "Montana")
    scratch = releases.pattern(revised, from_scratch=True)
    alone = releases.release(revised, scratch)
    assert audit(alone.tables, alone.withheld, K, alone.small).passed
    result = releases.audit_with(revised, scratch)
    assert result.releases == ("release 1", "release 2")
    assert result.max_changes == (("release 1", "release 2", 1),)
    pinned = {(i.release, i.cell[1], i.cell[2]) for i in result.intervals if i.integer[0] == i.integer[1]}
    assert pinned == {
        ("release 1", "Wyoming", "active"),
        ("release 1", "Wyoming", "total"),
        ("release 2", "Wyoming", "active"),
        ("release 2", "Wyoming", "resolved"),
    }
    assert len(result.problems) == 4
    assert all("together" in p and "Wyoming" in p for p in result.problems)


def test_no_pattern_of_the_revision_can_protect_a_published_count_that_became_small(first_2020) -> None:
    """The earlier release published Wyoming's 10 resolved cases; the revision's 9 is a C cell
    (1..9) within 1 of 10: it is 9 whatever else is suppressed. The suppressor says so in one
    line naming the cell, and indeed suppressing every cell of the revision does not help: shown
    on four states of the 2020 table with their Total (an audit of the whole 2020 tables with
    every cell suppressed takes about 300 linear programs and as many MILPs more)."""
    releases, tables = first_2020
    refusal = r"missing_children_by_state.resolved \['Wyoming' row\] of this"
    with pytest.raises(SuppressionError, match=refusal):
        releases.pattern(move(tables, "Wyoming", "Montana"))

    small = four_states(tables, ["Alabama", "Montana", "Vermont", "Wyoming"])
    releases = Releases()
    releases.publish(small)
    revised = move(small, "Wyoming", "Montana")
    with pytest.raises(SuppressionError, match=refusal):
        releases.pattern(revised)
    model = LinkedTables.from_tables(revised)
    everything = every_cell(model)
    result = releases.audit_with(revised, everything)
    assert result.problems == [
        "disclosure: missing_children_by_state, Wyoming, resolved (release release 2) can be derived exactly from "
        "the public releases release 1, release 2 together, by an attacker told which cells are small"
    ]
    assert result.exposed == ("missing_children_by_state, Wyoming, resolved",)


def test_a_published_zero_that_became_small_is_shown_small_whatever_the_revision_withholds(first_2020) -> None:
    """Two active cases moved from Texas to Maine, whose published 0 becomes 2 (R = 2): told
    it is small, an attacker knows it is 1 or 2 (not pinned); from the public copies alone, with
    no flag to read, it is at most 0 + 2, below K. The suppressor says so in its first round,
    naming the cell; suppressing every cell of the revision does not help either (four states
    with their Total)."""
    releases, tables = first_2020
    with pytest.raises(SuppressionError, match=r"active \['Maine' row\] of this release can be derived exactly"):
        releases.pattern(move(tables, "Texas", "Maine", "active"))  # 0 becomes 1: pinned as well
    refusal = r"missing_children_by_state.active \['Maine' row\] of this release can be shown to be below K"
    with pytest.raises(SuppressionError, match=refusal) as refused:
        releases.pattern(move(move(tables, "Texas", "Maine", "active"), "Texas", "Maine", "active"))
    assert refused.value.cells == ("missing_children_by_state, Maine, active",)

    small = four_states(tables, ["Maine", "Texas", "Vermont", "Wyoming"])
    releases = Releases()
    releases.publish(small)
    revised = move(move(small, "Texas", "Maine", "active"), "Texas", "Maine", "active")
    model = LinkedTables.from_tables(revised)
    everything = every_cell(model)
    result = releases.audit_with(revised, everything)
    assert "missing_children_by_state, Maine, active" in result.exposed
    assert (
        "disclosure: missing_children_by_state, Maine, active (release release 2), a small count, can be shown to "
        "be below K = 10 from the public releases release 1, release 2 together"
    ) in result.problems


@pytest.mark.parametrize(("source", "target"), [("Maine", "South Dakota"), ("Montana", "Wyoming")])
def test_a_revision_keeps_the_earlier_pattern_and_passes_the_joint_audit(first_2020, source, target) -> None:
    releases, tables = first_2020
    revised = move(tables, source, target)
    model, revision = releases.revision(revised)
    pattern = suppress(model, K, revision)
    earlier = {releases.models[0].cells[i] for i in releases.statuses[0]}
    assert earlier <= {model.cells[i] for i in pattern.status}  # every suppressed cell stays
    assert pattern.carried == len(earlier)
    result = releases.audit_with(revised, pattern.status)
    assert result.passed, result.problems
    assert result.joint()["narrowest_interval"][1] > result.joint()["narrowest_interval"][0]


def test_a_revision_suppressed_from_scratch_leaks_and_the_products_does_not() -> None:
    """Linked tables revised by one case (R = 1; found with hypothesis): suppressed from
    scratch, the revision passes its own audit but not the joint one; the product's revision,
    which keeps the first release's cells, passes it."""
    first = {
        "a": _frame([[1, 11], [25, 0]], ["active", "resolved"]),
        "b": _frame([[0, 0], [0, 0], [19, 0], [7, 11]], ["active", "resolved"]),
        "c": _frame([[0, 0, 17], [6, 11, 0], [0, 0, 3]], ["x", "y", "z"]),
    }
    revised = {
        "a": _frame([[2, 11], [25, 0]], ["active", "resolved"]),
        "b": _frame([[0, 0], [0, 0], [20, 0], [7, 11]], ["active", "resolved"]),
        "c": _frame([[0, 0, 17], [7, 11, 0], [0, 0, 3]], ["x", "y", "z"]),
    }
    releases = Releases(**OPTIONS)
    releases.publish(first)
    assert releases.changes(revised) == {(0, 1): 1}
    scratch = releases.pattern(revised, from_scratch=True)
    alone = releases.release(revised, scratch)
    assert audit(alone.tables, alone.withheld, K, alone.small, **OPTIONS).passed
    assert not releases.audit_with(revised, scratch).passed
    product = releases.pattern(revised)
    assert releases.audit_with(revised, product).passed


def test_dropping_a_carried_cell_gives_away_its_earlier_value(first_2020) -> None:
    """Republished with the same counts (R = 0), a cell suppressed before and published now
    gives its earlier value away: the joint audit names the earlier release's cell."""
    releases, tables = first_2020
    status = releases.pattern(tables)
    assert status == releases.statuses[0]
    assert releases.audit_with(tables, status).passed
    for dropped in (min(status), max(status)):
        fewer = {i: s for i, s in status.items() if i != dropped}
        result = releases.audit_with(tables, fewer)
        cell = releases.models[0].cells[dropped]
        assert any(i.release == "release 1" and i.cell == cell and i.width == 0 for i in result.intervals)
        assert not result.passed


def test_the_joint_audit_refuses_releases_that_differ_by_more_than_r() -> None:
    """R is a fact about the exact tables; a published change larger than R is a contradiction."""
    tables = reference_tables()
    releases = Releases()
    releases.publish(tables)
    revised = move(move(tables, "Texas", "Ohio"), "Texas", "Ohio")
    status = releases.pattern(revised)
    result = joint_audit([*releases.public, releases.release(revised, status)], {(0, 1): 1})  # the true R is 2
    assert any("changed by more than R = 1" in p for p in result.problems)


def test_a_single_release_is_audited_as_before(first_2020) -> None:
    releases, _ = first_2020
    first = releases.public[0]
    result = audit(first.tables, first.withheld, K, first.small)
    assert result.passed
    assert result.releases == (THIS_RELEASE,)
    assert result.joint()["releases"] == [THIS_RELEASE]


# ------------------------------------------------------------------------------------------
# Random small revisions of random linked tables (the shape of tests/public_copy/test_disclosure.py).
# ------------------------------------------------------------------------------------------


def _rows(frame: pl.DataFrame, columns: list[str]) -> list[list[int]]:
    return [list(row) for row in frame.filter(pl.col("label") != "Total").select(columns).iter_rows()]


@st.composite
def revisions(draw):
    """Tables and a revision of them: 1 to 3 cases added, removed or moved. A case is a cell of
    table a (row, active or resolved), of b (same column) and of c (any cell)."""
    tables = draw(linked_tables())
    a = _rows(tables["a"], ["active", "resolved"])
    b = _rows(tables["b"], ["active", "resolved"])
    c = _rows(tables["c"], ["x", "y", "z"])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["add", "remove", "move"]))
        column = draw(st.integers(0, 1))
        places = [(a, draw(st.integers(0, len(a) - 1)), column), (b, draw(st.integers(0, len(b) - 1)), column)]
        places.append((c, draw(st.integers(0, len(c) - 1)), draw(st.integers(0, 2))))
        if kind == "move":  # within table a (and so nowhere else)
            other = draw(st.integers(0, len(a) - 1))
            if a[places[0][1]][column] > 0:
                a[places[0][1]][column] -= 1
                a[other][column] += 1
            continue
        step = 1 if kind == "add" else -1
        if step < 0 and any(rows[r][j] == 0 for rows, r, j in places):
            continue
        for rows, r, j in places:
            rows[r][j] += step
    revised = {"a": _frame(a, ["active", "resolved"]), "b": _frame(b, ["active", "resolved"])}
    revised["c"] = _frame(c, ["x", "y", "z"])
    return tables, revised


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(revisions())
def test_random_small_revisions_pass_the_joint_audit(pair) -> None:
    """The product's revision passes the joint audit; when the suppressor refuses, no pattern
    could pass (suppressing every cell of the revision does not)."""
    tables, revised = pair
    releases = Releases(**OPTIONS)
    releases.publish(tables)
    try:
        status = releases.pattern(revised)
    except SuppressionError:
        model = LinkedTables.from_tables(revised, **OPTIONS)
        everything = every_cell(model)
        assert not releases.audit_with(revised, everything).passed
        return
    model = LinkedTables.from_tables(revised, **OPTIONS)
    carried = {releases.models[0].cells[i] for i in releases.statuses[0]}
    assert carried <= {model.cells[i] for i in status}
    result = releases.audit_with(revised, status)
    assert result.passed, result.problems


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_random_republications_need_every_carried_cell(tables) -> None:
    """Same counts again (R = 0): dropping a carried cell (the first, a middle and the last
    one) from the revision's pattern makes the joint audit fail, on that cell of the earlier
    release."""
    releases = Releases(**OPTIONS)
    status = releases.publish(tables)
    assert releases.pattern(tables) == status
    model = releases.models[0]
    cells = sorted(status)
    for dropped in sorted({cells[0], cells[len(cells) // 2], cells[-1]} if cells else set()):
        fewer = {i: s for i, s in status.items() if i != dropped}
        result = releases.audit_with(tables, fewer)
        assert not result.passed
        earlier = [i for i in result.intervals if i.release == "release 1" and i.width == 0]
        assert model.cells[dropped] in {i.cell for i in earlier}


def _tables(a: list[tuple], b: list[tuple], c: list[tuple]) -> dict[str, pl.DataFrame]:
    counts = ["label", "active", "resolved", "total"]
    return {
        "a": pl.DataFrame(a, schema=counts, orient="row"),
        "b": pl.DataFrame(b, schema=counts, orient="row"),
        "c": pl.DataFrame(c, schema=["label", "x", "y", "z", "total"], orient="row"),
    }


def test_a_revision_no_pattern_can_protect_is_refused_naming_the_cell_before_max_rounds() -> None:
    """Found by hypothesis: a.r3.resolved, withheld at 1 in the first release, is 0 in the
    revision and a.r0.resolved one more (R = 1). No pattern protects the first release's cells;
    the rounds alone added cuts for 200 rounds (100 CPU-s) before refusing without a name. The
    suppressor names a pinned cell of the first release, one the audit of the widest pattern
    names too."""
    b = [("r0", 15, 0, 15), ("r1", 2, 10, 12), ("r2", 14, 17, 31), ("Total", 31, 27, 58)]
    c = [("r0", 0, 0, 2, 2), ("r1", 2, 6, 8, 16), ("r2", 25, 4, 11, 40), ("Total", 27, 10, 21, 58)]
    first = _tables(
        [("r0", 17, 6, 23), ("r1", 1, 10, 11), ("r2", 1, 10, 11), ("r3", 12, 1, 13), ("Total", 31, 27, 58)], b, c
    )
    revised = _tables(
        [("r0", 17, 7, 24), ("r1", 1, 10, 11), ("r2", 1, 10, 11), ("r3", 12, 0, 12), ("Total", 31, 27, 58)], b, c
    )
    releases = Releases(**OPTIONS)
    releases.publish(first)
    with pytest.raises(SuppressionError) as refused:
        releases.pattern(revised)
    assert str(refused.value).startswith("a.active ['r1' row] of an earlier public release of the year can be derived")
    assert refused.value.cells == ("a, r1, active (release release 1)",)
    # The refusal is right: suppressing every cell of the revision still leaks, that cell too.
    model = LinkedTables.from_tables(revised, **OPTIONS)
    everything = every_cell(model)
    assert refused.value.cells[0] in releases.audit_with(revised, everything).exposed
