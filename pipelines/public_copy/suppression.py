"""Statistical disclosure control of the public-use tables: primary and complementary suppression.

The exact tables reproduce the published page. The public-use copy must not let anyone learn a
small count of children: a count from 1 to K-1 (K: ``MIN_PUBLIC_COUNT`` in pipelines/core/config.py)
in a table that counts children is suppressed (*primary* suppression, SDMX CONF_STATUS ``C``),
and so are as few further cells as possible (*complementary* suppression, ``D``) so that no
suppressed cell can be worked out exactly from what the public release states.

What the public release states (the attacker's knowledge), modelled by :class:`LinkedTables`:

* every published cell, and that every cell is a non-negative whole number;
* each row's parts add up to the row's total column, each column's category rows add up to the
  Total row (:class:`TableLayout`);
* the cells that several tables share (:data:`LINKS`): the population is the grand total of
  three tables and the headline figure ``missing_children_cases_assisted``; the Active and
  Resolved totals appear in two tables;
* a published percent is the rounded share of its count in the column total: it is
  suppressed together with its count (a percent of a total below 20,000 gives the count back);
* the status of every suppressed cell (the list of suppressed cells is published): a ``C`` cell
  lies in 1..K-1, a ``D`` cell of a table that counts children is 0 or at least K (it would be
  ``C`` otherwise).

Complementary suppression is the classical cell-suppression problem (Fischetti and Salazar),
solved by constraint generation with HiGHS (``scipy.optimize.milp`` / ``linprog``):

1. a master MILP chooses which cells to suppress (binary ``x``), primaries forced in, minimising
   in this order: suppressed totals (and cells of tables that do not count children), suppressed
   cells, suppressed value; remaining ties go to the earlier cell (an integer cost per cell, so
   the optimum is unique and the result byte-reproducible). It starts with the rule that no
   relation may have exactly one suppressed cell;
2. an attacker computes, for every suppressed cell, its minimum and maximum over all tables
   consistent with the published cells (LP). A cell whose interval has zero width gives a cut:
   at least one published cell that could widen it must be suppressed too. Which cells could is
   read off the LP duals ``y`` (a Lagrangian bound): suppressing a published cell ``j`` of value
   ``v`` lets it range over ``[0, cap]``, which moves the bound by at most
   ``max(s * (cap - v), -s * v)`` with ``s = y . a_j``; cells for which that is zero in both the
   minimum and the maximum (a published zero that could only push the cell further against
   its bound, say) cannot help, alone or together, in any pattern, so they are left out of the
   cut. Without this, a table of small counts would add its zeros one round at a time;
3. when the LP finds nothing, the same attacker with whole numbers and the ``D`` status
   (0 or >= K, a disjunction) is run; a cell it pins down gets the cut "suppress one more of the
   cells published now";
4. repeat until the attacker finds nothing: the pattern is then optimal for the whole problem,
   because every cut is valid for every protecting pattern.

The audit that blocks publication (pipelines/public_copy/audit.py) repeats the attack
independently, from the public tables alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from pipelines.core.config import HIGHS_MILP_OPTIONS, LP_TOLERANCE
from pipelines.tables import TOTAL, TableSpec, specs

if TYPE_CHECKING:
    from scipy.sparse import csr_array

# scipy (HiGHS) is imported where it solves, not with this module: the layouts above are read by
# the release and the docs, and a run pays for scipy in the step that solves (or in Great
# Expectations' import, on the thread beside the ingest's scan).

PRIMARY = "C"
"""SDMX CONF_STATUS of a primary suppression: a small count of children (1..K-1)."""
SECONDARY = "D"
"""SDMX CONF_STATUS of a secondary (complementary) suppression."""

CellKey = tuple[str, str, str]
"""(table, row label, column) of one cell."""


@dataclass(frozen=True)
class TableLayout:
    """How a table's counts relate: what the public can add up.

    ``label`` names the columns that label a row (joined by "/"); ``counts`` are the count
    columns in table order; ``row_total`` (one of them) is the sum of the other count columns in
    every row; ``total_row`` is the label of the row that is the sum
    of the category rows in every count column; ``percents`` maps a percent column to the count
    column it is the share of (in the column total). ``counts_children``: small counts are
    suppressed in this table.
    """

    label: tuple[str, ...]
    counts: tuple[str, ...]
    row_total: str | None = None
    total_row: str | None = TOTAL
    percents: tuple[tuple[str, str], ...] = ()
    counts_children: bool = False


def layout_of(table: TableSpec) -> TableLayout:
    """A table's relations as its spec (pipelines/tables/) declares them: its count columns (or,
    in a table that counts nothing, the columns it shares with another table), row total, total
    row and percents."""
    row_total = None
    if table.row_total is not None:
        parts, row_total = table.row_total
        if set(parts) | {row_total} != set(table.count_columns):
            raise ValueError(f"{table.name}: the row total's parts are not the other count columns")
    shared = tuple(dict.fromkeys(cell.column for cell in table.shares))
    return TableLayout(
        label=(table.label,) if table.label else tuple(k for k in table.primary_key if k != "year"),
        counts=tuple(table.count_columns) or shared,
        row_total=row_total,
        total_row=table.total,
        percents=table.percents,
        counts_children=table.counts_children,
    )


def _layouts() -> dict[str, TableLayout]:
    children = [name for name, table in specs().items() if table.counts_children]
    linked = [
        name
        for name, table in specs().items()
        if not table.counts_children and any(cell.table in children for cell in table.shares)
    ]
    return {name: layout_of(specs()[name]) for name in [*children, *linked]}


LAYOUTS: dict[str, TableLayout] = _layouts()
"""The tables of the public-use release that take part in suppression: those whose spec says
they count children, then those that share a cell with them (the headline figures share the
population). Every other table has no link to them and is published as it is."""

LINKS: tuple[tuple[CellKey, CellKey], ...] = tuple(
    ((name, cell.row, cell.column), (cell.table, cell.other_row, cell.other_column))
    for name in LAYOUTS
    for cell in specs()[name].shares
    if cell.table in LAYOUTS
)
"""Cells that hold the same figure in two tables of the public-use release, from the specs'
``shares`` (a link to a missing row is ignored)."""


@dataclass
class LinkedTables:
    """Cells and additive relations of linked tables.

    ``values`` are the cells' counts (``None`` where a public table leaves a cell empty);
    ``relations`` are homogeneous equations ``sum(coef * cell) = 0`` over ``cells`` indices;
    ``percents`` are (percent cell, count cell index, column total cell index, percent value or
    ``None``): a percent is published exactly when its count is.
    """

    cells: list[CellKey] = field(default_factory=list)
    values: list[int | None] = field(default_factory=list)
    is_total: list[bool] = field(default_factory=list)
    counts_children: list[bool] = field(default_factory=list)
    relations: list[dict[int, int]] = field(default_factory=list)
    percents: list[tuple[CellKey, int, int, float | None]] = field(default_factory=list)
    index: dict[CellKey, int] = field(default_factory=dict)

    def _add_cell(self, key: CellKey, value: int | None, is_total: bool, children: bool) -> None:
        if key in self.index:
            raise ValueError(f"{key[0]}: row '{key[1]}' appears twice")
        self.index[key] = len(self.cells)
        self.cells.append(key)
        self.values.append(None if value is None else int(value))
        self.is_total.append(is_total)
        self.counts_children.append(children)

    @classmethod
    def from_tables(
        cls,
        tables: Mapping[str, pl.DataFrame],
        layouts: Mapping[str, TableLayout] = LAYOUTS,
        links: Iterable[Sequence[CellKey]] = LINKS,
    ) -> LinkedTables:
        """The cells and relations of the given tables (those with a layout), in table order."""
        model = cls()
        for table, layout in layouts.items():
            frame = tables.get(table)
            if frame is None:
                continue
            labels: list[str] = []
            shown: dict[tuple[str, str], float | None] = {}
            for row in frame.iter_rows(named=True):
                label = "/".join(str(row[c]) for c in layout.label)
                labels.append(label)
                for percent, _ in layout.percents:
                    shown[(label, percent)] = None if row[percent] is None else float(row[percent])
                for column in layout.counts:
                    total = column == layout.row_total or label == layout.total_row
                    model._add_cell((table, label, column), row[column], total, layout.counts_children)
                if layout.row_total:
                    parts = [model.index[(table, label, c)] for c in layout.counts if c != layout.row_total]
                    model._relation(parts, model.index[(table, label, layout.row_total)])
            if layout.total_row is not None:
                if layout.total_row not in labels:
                    raise ValueError(f"{table}: no '{layout.total_row}' row")
                categories = [label for label in labels if label != layout.total_row]
                for column in layout.counts:
                    parts = [model.index[(table, label, column)] for label in categories]
                    model._relation(parts, model.index[(table, layout.total_row, column)])
                for percent, count in layout.percents:
                    model.percents.extend(
                        (
                            (table, label, percent),
                            model.index[(table, label, count)],
                            model.index[(table, layout.total_row, count)],
                            shown[(label, percent)],
                        )
                        for label in categories
                    )
        for group in links:
            present = [model.index[key] for key in group if key in model.index]
            for other in present[1:]:
                model._relation([present[0]], other)
        return model

    def _relation(self, parts: Sequence[int], total: int) -> None:
        """``sum(parts) = total``."""
        coefficients = dict.fromkeys(parts, 1)
        coefficients[total] = coefficients.get(total, 0) - 1
        self.relations.append(coefficients)

    def matrix(self) -> csr_array:
        """The relations as a sparse matrix (one row per relation, one column per cell)."""
        from scipy.sparse import csr_array

        rows, columns, data = [], [], []
        for r, relation in enumerate(self.relations):
            for c, coef in sorted(relation.items()):
                rows.append(r)
                columns.append(c)
                data.append(coef)
        return csr_array((data, (rows, columns)), shape=(len(self.relations), len(self.cells)))


def primary_cells(model: LinkedTables, k: int) -> list[int]:
    """Counts from 1 to k-1 in tables that count children (zero is not suppressed)."""
    return [i for i, v in enumerate(model.values) if model.counts_children[i] and 1 <= v < k]


@dataclass(frozen=True)
class Pattern:
    """A suppression pattern: cell index -> status (``C`` or ``D``), with how it was found."""

    status: dict[int, str]
    iterations: int
    cuts: int
    seconds: float
    carried: int = 0
    """Cells suppressed because an earlier public release of the year suppressed them."""


def cell_costs(model: LinkedTables) -> np.ndarray:
    """Integer cost per cell, lexicographic: a total (or a cell of a table that does not count
    children) outweighs every other cell together; then one unit per cell outweighs all values;
    then the value; then the cell's position (ties go to the earlier cell)."""
    n = len(model.cells)
    value_sum = sum(model.values)
    per_cell = n * (value_sum + n) + 1  # > sum over all cells of (value * n + position)
    per_total = n * per_cell + per_cell  # > every non-total cell together
    costs = [
        (per_total if model.is_total[i] or not model.counts_children[i] else 0) + per_cell + model.values[i] * n + i
        for i in range(n)
    ]
    return np.array(costs, dtype=np.float64)


MAX_ROUNDS = 200
"""Rounds of constraint generation before giving up (a few are usual: 2 for the 2020 tables).
A count of rounds, not a time limit, so the outcome does not depend on the machine; reaching it
fails the run with a clear error instead of letting a yearly run hang."""


class SuppressionError(RuntimeError):
    """No pattern protects the primary cells (e.g. a relation with only primary cells in a
    table whose every cell is fixed)."""


class _Attacker:
    """What the public can infer about the suppressed cells of one pattern (the algorithm's own
    attacker; the audit is a separate computation from the public tables).

    Unknowns are the suppressed cells; each relation that holds one becomes an equation with the
    published cells moved to the right-hand side. Bounds: C in [1, k-1], D >= 0; the whole-number
    attack adds, per D cell of a table that counts children, a binary z with k*z <= x <= cap*z
    (0 or at least k).
    """

    def __init__(
        self,
        model: LinkedTables,
        status: Mapping[int, str],
        k: int,
        fixed: Mapping[int, tuple[float, float]] | None = None,
        k_of: Mapping[int, int] | None = None,
    ) -> None:
        self.model, self.status, self.k = model, status, k
        # Change cells of a joint model (:class:`Revision`): always unknown, within [-R, R],
        # never attacked themselves; the K of each cell's own release.
        self.fixed = dict(fixed or {})
        self.k_of = dict(k_of or {})
        self.unknown = sorted(status)
        self.position = {cell: p for p, cell in enumerate(self.unknown)}
        self.relations = [r for r in model.relations if any(i in self.position and i not in self.fixed for i in r)]
        # above every true cell that can be suppressed, i.e. of a relation (a bound for the
        # binaries; it only narrows the attacker's search space, so it can only make the attack
        # stronger, never hide a leak). Cells of no relation (most headline figures, in the
        # millions) are left out: a needlessly large bound makes the MILPs badly scaled.
        related = {i for relation in model.relations for i in relation}
        self.cap = float(2 * sum(abs(model.values[i]) for i in related) + k)

    def _k(self, cell: int) -> int:
        return self.k_of.get(cell, self.k)

    def _system(self, relations: Sequence[dict[int, int]]) -> tuple[list[int], np.ndarray, np.ndarray]:
        unknown = sorted({i for r in relations for i in r if i in self.position})
        where = {cell: p for p, cell in enumerate(unknown)}
        a = np.zeros((len(relations), len(unknown)))
        b = np.zeros(len(relations))
        for row, relation in enumerate(relations):
            for i, coef in relation.items():
                if i in where:
                    a[row, where[i]] = coef
                else:
                    b[row] -= coef * self.model.values[i]
        return unknown, a, b

    def _bounds(self, unknown: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        low, high = [], []
        for i in unknown:
            if i in self.fixed:
                bound = self.fixed[i]
            elif self.status[i] == PRIMARY:
                bound = (1.0, self._k(i) - 1.0)
            else:
                bound = (0.0, self.cap)
            low.append(bound[0])
            high.append(bound[1])
        return np.array(low, dtype=np.float64), np.array(high, dtype=np.float64)

    def published_in(self, relations: Iterable[dict[int, int]]) -> set[int]:
        return {i for r in relations for i in r if i not in self.position}

    def lp_cuts(self) -> list[tuple[int, set[int]]]:
        """Cells the LP pins to one value, each with the published cells whose suppression
        could widen its interval (a positive Lagrangian gain in its minimum or its maximum)."""
        from scipy.optimize import linprog

        unknown, a, b = self._system(self.relations)
        low, high = self._bounds(unknown)
        bounds = list(zip(low, high))
        published = sorted(self.published_in(self.relations))
        # a_j of every published cell: its coefficients in the attacker's relations
        columns = np.zeros((len(self.relations), len(published)))
        where = {cell: q for q, cell in enumerate(published)}
        for r, relation in enumerate(self.relations):
            for i, coef in relation.items():
                if i in where:
                    columns[r, where[i]] = coef
        values = np.array([self.model.values[i] for i in published], dtype=np.float64)
        # The least and greatest value of each cell among the tables the LPs have returned so
        # far: two tables that differ in a cell prove it is not pinned, without its own LPs.
        seen_low, seen_high = np.full(len(unknown), np.inf), np.full(len(unknown), -np.inf)
        cuts = []
        for p, cell in enumerate(unknown):
            if cell in self.fixed or seen_high[p] - seen_low[p] > LP_TOLERANCE:
                continue
            helps = np.zeros(len(published), dtype=bool)
            extremes = []
            for sign in (1.0, -1.0):
                c = np.zeros(len(unknown))
                c[p] = sign
                result = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
                if result.status != 0:
                    raise SuppressionError(f"the attacker's LP failed: {result.message}")
                extremes.append(sign * result.fun)
                seen_low, seen_high = np.minimum(seen_low, result.x), np.maximum(seen_high, result.x)
                # The objective may fall by at most max(s * (cap - v), -s * v), s = y . a_j.
                slope = result.eqlin.marginals @ columns
                gain = np.maximum(slope * (self.cap - values), -slope * values)
                helps |= (np.abs(slope) > 1e-9) & (gain > 1e-9)
            if extremes[1] - extremes[0] < LP_TOLERANCE:
                cuts.append((cell, {published[q] for q in np.flatnonzero(helps)}))
        return cuts

    def pinned(
        self, relations: Sequence[dict[int, int]], cell: int, seen: dict[int, tuple[float, float]] | None = None
    ) -> bool:
        """Whether whole numbers and the D status pin ``cell`` down given ``relations`` alone.
        ``seen``: the least and greatest value of each cell in the whole-number tables found so
        far for the same relations (updated here); two that differ in ``cell`` answer at once."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        if seen is not None and cell in seen and seen[cell][1] - seen[cell][0] > 0.5:
            return False
        unknown, a, b = self._system(relations)
        n = len(unknown)
        secondary = [p for p, i in enumerate(unknown) if self.status[i] == SECONDARY and self.model.counts_children[i]]
        m = len(secondary)
        link = np.zeros((2 * m, n + m))
        for r, p in enumerate(secondary):
            link[2 * r, p], link[2 * r, n + r] = 1.0, -self.cap
            link[2 * r + 1, p], link[2 * r + 1, n + r] = -1.0, float(self._k(unknown[p]))
        constraints = [LinearConstraint(np.hstack([a, np.zeros((len(relations), m))]), b, b)]
        if m:
            constraints.append(LinearConstraint(link, -np.inf, 0.0))
        low, high = self._bounds(unknown)
        bounds = Bounds(np.concatenate([low, np.zeros(m)]), np.concatenate([high, np.ones(m)]))
        extremes = []
        for sign in (1.0, -1.0):
            c = np.zeros(n + m)
            c[unknown.index(cell)] = sign
            result = milp(
                c, integrality=np.ones(n + m), bounds=bounds, constraints=constraints, options=HIGHS_MILP_OPTIONS
            )
            if result.status != 0:
                raise SuppressionError(f"the attacker's MILP failed: {result.message}")
            extremes.append(sign * result.fun)
            if seen is not None:
                for q, i in enumerate(unknown):
                    low_i, high_i = seen.get(i, (np.inf, -np.inf))
                    seen[i] = (min(low_i, result.x[q]), max(high_i, result.x[q]))
        return extremes[1] - extremes[0] < 0.5

    def integer_cuts(self) -> list[tuple[int, set[int]]]:
        """Cells whole numbers and the D status pin down, each with the published cells of the
        smallest proof found: one relation if one suffices, else every relation of the cell's
        connected group of suppressed cells (the rest of the tables cannot matter)."""
        cuts = []
        seen: dict[tuple[int, ...], dict[int, tuple[float, float]]] = {}  # per group
        for cell in self.unknown:
            if cell in self.fixed:
                continue
            taken = self._group(cell)
            group = [self.relations[r] for r in taken]
            if not self.pinned(group, cell, seen.setdefault(taken, {})):
                continue
            proof = next((r for r in group if cell in r and self.pinned([r], cell)), None)
            cuts.append((cell, self.published_in([proof] if proof else group)))
        return cuts

    def _group(self, cell: int) -> tuple[int, ...]:
        """The relations (their positions) reachable from ``cell`` through suppressed cells."""
        seen, todo = {cell}, [cell]
        taken: set[int] = set()
        while todo:
            current = todo.pop()
            for r, relation in enumerate(self.relations):
                if r in taken or current not in relation:
                    continue
                taken.add(r)
                for i in relation:
                    if i in self.position and i not in seen:
                        seen.add(i)
                        todo.append(i)
        return tuple(sorted(taken))


@dataclass(frozen=True)
class Earlier:
    """An earlier public release of the year, as the suppressor of a revision knows it: its
    exact tables' cells and relations, its suppressed cells (``model`` indices) and its K."""

    model: LinkedTables
    status: Mapping[int, str]
    k: int


@dataclass
class Revision:
    """The joint model of a revision: every earlier public release of the year and the new one,
    side by side, as one attacker reads them together.

    Cells and relations of each release are copied (release ``r``'s table ``t`` becomes
    ``t@r``); for each pair of releases ``(r, s)`` with a largest change ``R`` and each cell of a
    table that counts children in both, a *change cell* ``d = x_s - x_r`` within ``[-R, R]``
    joins the relation ``x_s - x_r - d = 0``. Change cells are always unknown and never attacked
    themselves; the earlier releases' suppressed cells are always unknown; only the new
    release's cells are chosen by the master problem (``new``: the joint index of each).
    """

    model: LinkedTables
    earlier_status: dict[int, str]
    fixed: dict[int, tuple[float, float]]
    k_of: dict[int, int]
    new: list[int]
    carried: list[int]
    """Cells of the new release suppressed in an earlier release (new-release indices)."""

    @classmethod
    def of(
        cls, model: LinkedTables, earlier: Sequence[Earlier], changes: Mapping[tuple[int, int], int], k: int
    ) -> Revision:
        """``changes``: the largest change ``R`` between releases ``r < s`` (positions in
        ``[*earlier, new]``); a pair without one is not linked."""
        releases = [*(e.model for e in earlier), model]
        joint = LinkedTables()
        offsets = []
        for r, release in enumerate(releases):
            offsets.append(len(joint.cells))
            for i, (table, row, column) in enumerate(release.cells):
                value = release.values[i]
                joint._add_cell((f"{table}@{r}", row, column), value, release.is_total[i], release.counts_children[i])
            joint.relations.extend({offsets[r] + i: c for i, c in rel.items()} for rel in release.relations)
        earlier_status = {offsets[r] + i: code for r, e in enumerate(earlier) for i, code in e.status.items()}
        k_of = {offsets[r] + i: e.k for r, e in enumerate(earlier) for i in range(len(e.model.cells))}
        fixed: dict[int, tuple[float, float]] = {}
        for (r, s), change in sorted(changes.items()):
            first, second = releases[r], releases[s]
            for key, i in first.index.items():
                j = second.index.get(key)
                if j is None or not first.counts_children[i]:
                    continue
                d = len(joint.cells)
                joint._add_cell(
                    (f"change@{r}-{s}", f"{key[0]}/{key[1]}", key[2]), second.values[j] - first.values[i], False, False
                )
                joint.relations.append({offsets[s] + j: 1, offsets[r] + i: -1, d: -1})
                fixed[d] = (-float(change), float(change))
        new = [offsets[-1] + i for i in range(len(model.cells))]
        suppressed_before = {key for e in earlier for i, key in enumerate(e.model.cells) if i in e.status}
        carried = [i for i, key in enumerate(model.cells) if key in suppressed_before]
        return cls(joint, earlier_status, fixed, k_of, new, carried)


def unprotectable(model: LinkedTables, cell: int, new: bool) -> str:
    """Why no pattern helps (names the cell, never a value)."""
    table, row, column = model.cells[cell]
    where = "this release" if new else "an earlier public release of the year"
    return (
        f"{table.split('@')[0]}.{column} ['{row}' row] of {where} can be derived exactly from the "
        "earlier public releases and this one together, whatever else this release suppresses "
        "(a count published earlier became a small count, or the statuses and the largest change "
        "between the releases pin it)"
    )


HOPELESS_AFTER = 10
"""Rounds after which a revision's suppression asks whether any pattern can protect it."""


def _refuse_if_hopeless(
    joint: LinkedTables,
    k: int,
    revision: Revision,
    own: Mapping[int, int],
    forced: set[int],
    is_primary: set[int],
) -> None:
    """Raise when no pattern of the revision can protect its forced cells and the earlier
    releases' suppressed cells. Every pattern suppresses the forced cells, and its attacker knows
    at least what the widest pattern (every forced cell and every cell of a relation suppressed)
    leaves him; if that pins one of them, so does every pattern. Asked only once a revision has
    taken HOPELESS_AFTER rounds: one attack of the widest pattern costs about one round more than
    most revisions take in all, while the rounds alone would add cuts until MAX_ROUNDS (a
    30-cell revision took 100 CPU-s to be refused so)."""
    related = {own[j] for relation in joint.relations for j in relation if j in own}
    new = revision.new
    widest = {new[i]: PRIMARY if i in is_primary else SECONDARY for i in sorted(related | forced)}
    seen = {**revision.earlier_status, **widest, **dict.fromkeys(revision.fixed, SECONDARY)}
    attacker = _Attacker(joint, seen, k, fixed=revision.fixed, k_of=revision.k_of)

    def required(cuts: list) -> list[int]:
        return [c for c, _ in cuts if c not in own or own[c] in forced]

    pinned = required(attacker.lp_cuts()) or required(attacker.integer_cuts())
    if pinned:
        raise SuppressionError(unprotectable(joint, min(pinned), min(pinned) in own))


def suppress(model: LinkedTables, k: int, revision: Revision | None = None) -> Pattern:
    """The cheapest pattern (primary + complementary cells) that leaves every suppressed cell an
    interval of more than one value, given everything the public release states.

    ``revision``: the year's earlier public releases. Every cell suppressed in one of them stays
    suppressed (``Revision.carried``), and the attacker reads them all together with the new
    release (:class:`Revision`): no suppressed cell of any of them may be pinned."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    started = time.perf_counter()
    n = len(model.cells)
    primaries = primary_cells(model, k)
    forced = sorted(set(primaries) | set(revision.carried if revision else ()))
    if not forced:
        return Pattern({}, 0, 0, time.perf_counter() - started)
    costs = cell_costs(model)
    lower = np.zeros(n)
    lower[forced] = 1.0
    lower_set = set(forced)
    bounds = Bounds(lower, np.ones(n))
    # Cuts (cell, others): if the cell is suppressed, so is one of the others; (None, others):
    # one of the others is suppressed (a cell of an earlier release needs it).
    cuts: list[tuple[int | None, tuple[int, ...]]] = []
    for relation in model.relations:
        members = sorted(relation)
        cuts.extend((i, tuple(j for j in members if j != i)) for i in members)
    is_primary = set(primaries)
    if revision is None:
        joint, fixed, k_of, earlier_status, new = model, {}, {}, {}, list(range(n))
    else:
        joint, fixed, k_of = revision.model, revision.fixed, revision.k_of
        earlier_status, new = revision.earlier_status, revision.new
    own = {j: i for i, j in enumerate(new)}
    iterations = 0
    while iterations < MAX_ROUNDS:
        iterations += 1
        if revision is not None and iterations == HOPELESS_AFTER:
            _refuse_if_hopeless(joint, k, revision, own, lower_set, is_primary)
        rows, columns, data, floor = [], [], [], []
        for r, (i, others) in enumerate(cuts):
            rows.extend([r] * len(others))
            columns.extend(others)
            data.extend([1.0] * len(others))
            if i is not None:
                rows.append(r)
                columns.append(i)
                data.append(-1.0)
            floor.append(0.0 if i is not None else 1.0)
        cut_matrix = csr_array((data, (rows, columns)), shape=(len(cuts), n))
        result = milp(
            costs,
            integrality=np.ones(n),
            bounds=bounds,
            constraints=[LinearConstraint(cut_matrix, np.array(floor), np.inf)],
            options=HIGHS_MILP_OPTIONS,
        )
        if result.status != 0:
            raise SuppressionError(f"no suppression pattern protects the small counts: {result.message}")
        status = {i: PRIMARY if i in is_primary else SECONDARY for i in range(n) if result.x[i] > 0.5}
        seen = {**earlier_status, **{new[i]: code for i, code in status.items()}, **dict.fromkeys(fixed, SECONDARY)}
        attacker = _Attacker(joint, seen, k, fixed=fixed, k_of=k_of)
        new_cuts = attacker.lp_cuts() or attacker.integer_cuts()
        if not new_cuts:
            carried = len(revision.carried) if revision else 0
            return Pattern(status, iterations, len(cuts), time.perf_counter() - started, carried)
        # An empty proof: the statuses alone pin the cell, so it can never be suppressed (if it
        # is a primary cell, the next MILP is infeasible and says so). Only the new release's
        # published cells can be suppressed now.
        for cell, proof in new_cuts:
            mine = tuple(sorted(own[j] for j in proof if j in own))
            if revision is not None and not mine and (cell not in own or own[cell] in lower_set):
                raise SuppressionError(unprotectable(joint, cell, cell in own))
            cuts.append((own.get(cell), mine))
    raise SuppressionError(f"no protecting suppression pattern found in {MAX_ROUNDS} rounds")


def naive_pattern(model: LinkedTables, k: int) -> dict[int, str]:
    """Primary suppression alone: what is shown to leak (tests, docs)."""
    return {i: PRIMARY for i in primary_cells(model, k)}


def suppressed_cells(model: LinkedTables, status: Mapping[int, str]) -> dict[CellKey, str]:
    """The published list: every suppressed cell (percents of suppressed counts included) and
    its CONF_STATUS, in table and row order."""
    ordered = [(i, 0, model.cells[i], code) for i, code in status.items()]
    ordered += [(count, 1, key, status[count]) for key, count, _, _ in model.percents if count in status]
    return {key: code for _, _, key, code in sorted(ordered)}


def apply_pattern(
    tables: Mapping[str, pl.DataFrame],
    listed: Mapping[CellKey, str],
    layouts: Mapping[str, TableLayout] = LAYOUTS,
) -> dict[str, pl.DataFrame]:
    """The public tables: every listed cell emptied (null), columns keep their types."""
    public = {}
    for table, frame in tables.items():
        layout = layouts.get(table)
        cells = [key for key in listed if key[0] == table]
        if layout is None or not cells:
            public[table] = frame
            continue
        label = pl.concat_str([pl.col(c).cast(pl.String) for c in layout.label], separator="/")
        columns = sorted({column for _, _, column in cells})
        public[table] = frame.with_columns(
            pl.when(label.is_in([row for _, row, c in cells if c == column]))
            .then(None)
            .otherwise(pl.col(column))
            .alias(column)
            for column in columns
        )
    return public
