"""Statistical disclosure control of the public-use tables: primary and complementary suppression.

The exact tables reproduce the published page. The public-use copy must not let anyone learn a
small count of children: a count from 1 to K-1 (K: ``MIN_PUBLIC_COUNT`` in pipelines/core/config.py)
in a table that counts children is withheld (*primary* suppression), and so are as few further
cells as possible (*complementary* suppression). Every withheld cell carries the same public
flag (:data:`WITHHELD`): which of them are small counts is never public.

What the public release states, modelled by :class:`LinkedTables`:

* every published cell, and that every cell is a non-negative whole number;
* each row's parts add up to the row's total column, each column's category rows add up to the
  Total row (:class:`TableLayout`);
* the cells that several tables share (:data:`LINKS`): the population is the grand total of
  three tables and the headline figure ``missing_children_cases_assisted``; the Active and
  Resolved totals appear in two tables;
* a published percent is the rounded share of its count in the column total: it is
  withheld together with its count (a percent of a total below 20,000 gives the count back).

A pattern must stand two attacks, each on every release of the year read together (a revision,
:class:`Revision`):

(a) the *cautious* reading: the attacker is told which withheld cells are small (a primary cell
    lies in 1..K-1, any other withheld cell of a table that counts children is 0 or at least K):
    no withheld cell may be pinned to one value;
(b) the *public* reading, what the one flag leaves: every withheld cell is some non-negative
    whole number; no small count may be shown to be small: its largest feasible value is at
    least K.

Complementary suppression is the classical cell-suppression problem (Fischetti and Salazar),
solved by constraint generation with HiGHS (``scipy.optimize.milp`` / ``linprog``):

1. a master MILP chooses which cells to suppress (binary ``x``), primaries forced in, minimising
   in this order: suppressed totals (and cells of tables that do not count children), suppressed
   cells, suppressed value; remaining ties go to the earlier cell (an integer cost per cell, so
   the optimum is unique and the result byte-reproducible). It starts with the rule that no
   relation may have exactly one suppressed cell;
2. the attackers of (a) and (b) work on the current pattern, first as LPs. A cell (a) pins gives
   a cut: at least one published cell that could widen its interval must be suppressed too.
   Which cells could is read off the LP duals ``y`` (a Lagrangian bound): suppressing a
   published cell ``j`` of value ``v`` lets it range over ``[0, cap]``, which moves the bound by
   at most ``g_j = max(s * (cap - v), -s * v)`` with ``s = y . a_j``; cells for which that is
   zero (a published zero that could only push the cell further against its bound, say)
   cannot help, alone or together, in any pattern, so they are left out of the cut. A small
   count (b) caps below K gives the knapsack cut ``sum(min(g_j, need) x_j) >= need`` with
   ``need = K - its largest value`` (the Benders cut of a protection level);
3. when the LPs find nothing, the same attacks with whole numbers (and, for (a), a withheld cell
   that is not small as 0 or >= K, a disjunction); a cell they pin, or cap below K, gets the cut
   "suppress one more of the cells published now" in its group of relations;
4. repeat until the attackers find nothing: the pattern is then optimal for the whole problem,
   because every cut is valid for every protecting pattern.

The audit that blocks publication of the public copy (pipelines/public_copy/audit.py) repeats
both attacks independently, from the public tables alone.
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

WITHHELD = "C"
"""The one public flag of every withheld cell, in ``public/suppressed_cells`` (its SDMX
CONF_STATUS column: C, confidential) and the data packages (docs/public-use.md, "One flag")."""
PRIMARY = "primary"
"""The role of a withheld cell that is a small count of children (1..K-1). Roles are never
published: the exact release's manifest counts them per table."""
SECONDARY = "secondary"
"""The role of a cell withheld to protect the small counts (complementary suppression)."""

CellKey = tuple[str, str, str]
"""(table, row label, column) of one cell."""


def cell_name(key: CellKey) -> str:
    """How a cell is named to people (the run's line, the manifest, alerts): ``table, row,
    column``, as ``impact diff`` names it; never its value."""
    return f"{key[0]}, {key[1]}, {key[2]}"


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
    """A suppression pattern: cell index -> role (:data:`PRIMARY` or :data:`SECONDARY`), with
    how it was found."""

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
"""Rounds of constraint generation before giving up (a few are usual: 3 for the 2020 tables).
A count of rounds, not a time limit, so the outcome does not depend on the machine; reaching it
withholds the public copy with a clear reason instead of letting a yearly run hang."""


class SuppressionError(RuntimeError):
    """No pattern protects the small counts. ``cells`` names the cells every pattern gives away
    (``table, row, column``, :func:`cell_name`), when the suppressor found them; the message
    names them too, never a value."""

    def __init__(self, message: str, cells: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.cells = tuple(cells)


@dataclass(frozen=True)
class Cut:
    """What every protecting pattern does, learnt from an attack on one pattern:
    ``sum(weights[j] * x_j) >= need`` over cells published in that pattern (joint indices),
    whenever the attacked ``cell`` is suppressed. ``small``: the public reading (b) capped the
    small count ``cell`` below K; otherwise the cautious reading (a) pinned it."""

    cell: int
    weights: Mapping[int, float]
    need: float = 1.0
    small: bool = False


class _Attacker:
    """What the public can infer about the withheld cells of one pattern, in both readings (the
    algorithm's own attacker; the audit is a separate computation from the public tables).

    Unknowns are the withheld cells; each relation that holds one becomes an equation with the
    published cells moved to the right-hand side. Cautious reading (a): a primary cell lies in
    [1, k-1], any other in [0, cap], and the whole-number attack adds, per other cell of a table
    that counts children, a binary z with k*z <= x <= cap*z (0 or at least k). Public reading
    (b): every unknown lies in [0, cap]. ``fixed``: the change cells of a joint model
    (:class:`Revision`), within [-R, R] in both readings, never attacked themselves.
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
        self.fixed = dict(fixed or {})
        self.k_of = dict(k_of or {})  # the K of each cell's own release
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

    def _bounds(self, unknown: Sequence[int], public: bool = False) -> tuple[np.ndarray, np.ndarray]:
        low, high = [], []
        for i in unknown:
            if i in self.fixed:
                bound = self.fixed[i]
            elif self.status[i] == PRIMARY and not public:
                bound = (1.0, self._k(i) - 1.0)
            else:
                bound = (0.0, self.cap)
            low.append(bound[0])
            high.append(bound[1])
        return np.array(low, dtype=np.float64), np.array(high, dtype=np.float64)

    def published_in(self, relations: Iterable[dict[int, int]]) -> set[int]:
        return {i for r in relations for i in r if i not in self.position}

    def _published_columns(self) -> tuple[list[int], np.ndarray, np.ndarray]:
        """The published cells of the attacker's relations, their coefficients there (one
        column each) and their values."""
        published = sorted(self.published_in(self.relations))
        columns = np.zeros((len(self.relations), len(published)))
        where = {cell: q for q, cell in enumerate(published)}
        for r, relation in enumerate(self.relations):
            for i, coef in relation.items():
                if i in where:
                    columns[r, where[i]] = coef
        return published, columns, np.array([self.model.values[i] for i in published], dtype=np.float64)

    def _gain(self, result, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """How far suppressing each published cell could move the LP's optimum, at most: the
        Lagrangian bound of its duals, ``max(s * (cap - v), -s * v)`` with ``s = y . a_j``."""
        slope = result.eqlin.marginals @ columns
        gain = np.maximum(slope * (self.cap - values), -slope * values)
        return np.where(np.abs(slope) > 1e-9, gain, 0.0)

    def lp_cuts(self) -> list[Cut]:
        """(a) Cells the LP pins to one value, each with the published cells whose suppression
        could widen its interval (a positive Lagrangian gain in its minimum or its maximum)."""
        from scipy.optimize import linprog

        unknown, a, b = self._system(self.relations)
        low, high = self._bounds(unknown)
        bounds = list(zip(low, high))
        published, columns, values = self._published_columns()
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
                helps |= self._gain(result, columns, values) > 1e-9
            if extremes[1] - extremes[0] < LP_TOLERANCE:
                cuts.append(Cut(cell, dict.fromkeys((published[q] for q in np.flatnonzero(helps)), 1.0)))
        return cuts

    def public_cuts(self) -> list[Cut]:
        """(b) Small counts the public reading caps below K. An LP cap gives the knapsack cut on
        the published cells' Lagrangian gains (``need``: what the cell lacks to reach K); an LP
        that reaches K at a fractional point is followed by the whole-number maximum over the
        cell's group of relations, whose cap gives the cut "one more of its published cells"."""
        from scipy.optimize import linprog

        unknown, a, b = self._system(self.relations)
        low, high = self._bounds(unknown, public=True)
        bounds = list(zip(low, high))
        published, columns, values = self._published_columns()
        # The greatest value of each cell in a whole-number table an LP returned: one at or
        # above K shows that cell can reach K, without its own LP.
        reached = np.full(len(unknown), -np.inf)
        cuts = []
        for p, cell in enumerate(unknown):
            k = self._k(cell)
            if cell in self.fixed or self.status[cell] != PRIMARY or reached[p] >= k:
                continue
            c = np.zeros(len(unknown))
            c[p] = -1.0
            result = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            if result.status != 0:
                raise SuppressionError(f"the attacker's LP failed: {result.message}")
            if -result.fun < k - LP_TOLERANCE:
                need = k + result.fun
                gain = self._gain(result, columns, values)
                weights = {published[q]: min(gain[q], need) for q in np.flatnonzero(gain > 1e-9)}
                cuts.append(Cut(cell, weights, need, small=True))
            elif np.allclose(result.x, np.round(result.x), rtol=0.0, atol=1e-9):
                reached = np.maximum(reached, np.round(result.x))
            else:
                group = [self.relations[r] for r in self._group(cell)]
                if self._largest_whole(group, cell) < k:
                    cuts.append(Cut(cell, dict.fromkeys(self.published_in(group), 1.0), small=True))
        return cuts

    def _largest_whole(self, relations: Sequence[dict[int, int]], cell: int) -> float:
        """(b) The largest whole-number value of ``cell`` given ``relations`` alone."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        unknown, a, b = self._system(relations)
        low, high = self._bounds(unknown, public=True)
        c = np.zeros(len(unknown))
        c[unknown.index(cell)] = -1.0
        result = milp(
            c,
            integrality=np.ones(len(unknown)),
            bounds=Bounds(low, high),
            constraints=[LinearConstraint(a, b, b)],
            options=HIGHS_MILP_OPTIONS,
        )
        if result.status != 0:
            raise SuppressionError(f"the attacker's MILP failed: {result.message}")
        return -result.fun

    def pinned(
        self, relations: Sequence[dict[int, int]], cell: int, seen: dict[int, tuple[float, float]] | None = None
    ) -> bool:
        """(a) Whether whole numbers and the cautious reading pin ``cell`` down given
        ``relations`` alone. ``seen``: the least and greatest value of each cell in the
        whole-number tables found so far for the same relations (updated here); two that differ
        in ``cell`` answer at once."""
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

    def integer_cuts(self) -> list[Cut]:
        """(a) Cells whole numbers and the cautious reading pin down, each with the published
        cells of the smallest proof found: one relation if one suffices, else every relation of
        the cell's connected group of suppressed cells (the rest of the tables cannot matter)."""
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
            cuts.append(Cut(cell, dict.fromkeys(self.published_in([proof] if proof else group), 1.0)))
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
    exact tables' cells and relations, its withheld cells (``model`` indices) with their roles
    (from its exact tables: small or not) and its K."""

    model: LinkedTables
    status: Mapping[int, str]
    k: int
    name: str = "an earlier public copy"


@dataclass
class Revision:
    """The joint model of a revision: every earlier public release of the year and the new one,
    side by side, as one attacker reads them together.

    Cells and relations of each release are copied (release ``r``'s table ``t`` becomes
    ``t@r``); for each pair of releases ``(r, s)`` with a largest change ``R`` and each cell of a
    table that counts children in both, a *change cell* ``d = x_s - x_r`` within ``[-R, R]``
    joins the relation ``x_s - x_r - d = 0``. Change cells are always unknown and never attacked
    themselves; the earlier releases' withheld cells are always unknown; only the new release's
    cells are chosen by the master problem (``new``: the joint index of each). A first release
    is the joint model of itself alone (:meth:`alone`).
    """

    model: LinkedTables
    earlier_status: dict[int, str]
    fixed: dict[int, tuple[float, float]]
    k_of: dict[int, int]
    new: list[int]
    carried: list[int]
    """Cells of the new release suppressed in an earlier release (new-release indices)."""
    names: tuple[tuple[int, str], ...] = ()
    """(first joint index, name) of each earlier release."""

    def release_of(self, cell: int) -> str | None:
        """The name of the earlier release a joint cell belongs to (None: the new release)."""
        if cell >= self.new[0]:
            return None
        return next(name for first, name in reversed(self.names) if cell >= first)

    @classmethod
    def alone(cls, model: LinkedTables) -> Revision:
        return cls(model, {}, {}, {}, list(range(len(model.cells))), [])

    @property
    def joint(self) -> bool:
        """Whether earlier releases are read with the new one."""
        return len(self.new) != len(self.model.cells)

    def attacker(self, status: Mapping[int, str], k: int) -> _Attacker:
        """The attack of every release read together, the new one withheld as ``status``
        (new-release indices -> role)."""
        seen = {
            **self.earlier_status,
            **{self.new[i]: role for i, role in status.items()},
            **dict.fromkeys(self.fixed, SECONDARY),
        }
        return _Attacker(self.model, seen, k, fixed=self.fixed, k_of=self.k_of)

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
        names = tuple((offsets[r], e.name) for r, e in enumerate(earlier))
        return cls(joint, earlier_status, fixed, k_of, new, carried, names)


def unprotectable(revision: Revision, cut: Cut) -> SuppressionError:
    """The error when no pattern can satisfy ``cut`` (it names the cell, never a value)."""
    table, row, column = revision.model.cells[cut.cell]
    earlier = revision.release_of(cut.cell)
    where = "this release" if earlier is None else "an earlier public release of the year"
    how = "can be shown to be below K from what is public" if cut.small else "can be derived exactly"
    source = "from the earlier public releases and this one together" if revision.joint else "from the public release"
    because = (
        " (a count published earlier became a small count, or the largest change between the releases pins it)"
        if revision.joint
        else ""
    )
    name = cell_name((table.split("@")[0], row, column)) + ("" if earlier is None else f" (release {earlier})")
    return SuppressionError(
        f"{table.split('@')[0]}.{column} ['{row}' row] of {where} {how} {source}, whatever else this release "
        f"withholds{because}",
        [name],
    )


HOPELESS_AFTER = 10
"""Rounds after which a revision's suppression asks whether any pattern can protect it."""


def _refuse_if_hopeless(revision: Revision, k: int, forced: set[int], is_primary: set[int]) -> None:
    """Raise when no pattern of the revision can protect its forced cells and the earlier
    releases' withheld cells. Every pattern suppresses the forced cells, and its attacker knows
    at least what the widest pattern (every forced cell and every cell of a relation suppressed)
    leaves him, in either reading; if that pins one of them or caps a small one below K, so does
    every pattern. Asked only once a revision has taken HOPELESS_AFTER rounds: one attack of the
    widest pattern costs about one round more than most revisions take in all, while the rounds
    alone would add cuts until MAX_ROUNDS (a 30-cell revision took 100 CPU-s to be refused so)."""
    own = {j: i for i, j in enumerate(revision.new)}
    related = {own[j] for relation in revision.model.relations for j in relation if j in own}
    widest = {i: PRIMARY if i in is_primary else SECONDARY for i in sorted(related | forced)}
    attacker = revision.attacker(widest, k)
    for attack in (attacker.lp_cuts, attacker.public_cuts, attacker.integer_cuts):
        required = [cut for cut in attack() if cut.cell not in own or own[cut.cell] in forced]
        if required:
            raise unprotectable(revision, min(required, key=lambda cut: cut.cell))


class _Master:
    """The master problem: a binary ``x`` per cell of the new release, the forced cells at 1,
    the lexicographic costs (:func:`cell_costs`), and every cut found so far as a row
    ``sum(w_j x_j) >= need * x_cell`` (``>= need`` when the cell is always withheld). It starts
    with the rule that no relation may have exactly one suppressed cell."""

    def __init__(self, model: LinkedTables, forced: Sequence[int]) -> None:
        self.n = len(model.cells)
        self.costs = cell_costs(model)
        self.forced = set(forced)
        lower = np.zeros(self.n)
        lower[sorted(self.forced)] = 1.0
        self.lower = lower
        self.rows: list[tuple[dict[int, float], float, int | None]] = []
        for relation in model.relations:
            members = sorted(relation)
            self.rows.extend((dict.fromkeys((j for j in members if j != i), 1.0), 1.0, i) for i in members)

    def add(self, cut: Cut, revision: Revision) -> None:
        """The cut on the new release's cells; raise when no pattern can satisfy it (the
        attacked cell is always withheld and all the cells it names together cannot help)."""
        own = {j: i for i, j in enumerate(revision.new)}
        weights = {own[j]: w for j, w in sorted(cut.weights.items()) if j in own}
        cell = own.get(cut.cell)
        always = cell is None or cell in self.forced
        if always and sum(weights.values()) < cut.need - LP_TOLERANCE:
            raise unprotectable(revision, cut)
        self.rows.append((weights, cut.need - LP_TOLERANCE, None if always else cell))

    def solve(self) -> list[int]:
        """The cheapest pattern satisfying every row so far (HiGHS, proven optimum)."""
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import csr_array

        rows, columns, data, floor = [], [], [], []
        for r, (weights, need, cell) in enumerate(self.rows):
            rows.extend([r] * len(weights))
            columns.extend(weights)
            data.extend(weights.values())
            if cell is not None:
                rows.append(r)
                columns.append(cell)
                data.append(-need)
            floor.append(0.0 if cell is not None else need)
        matrix = csr_array((data, (rows, columns)), shape=(len(self.rows), self.n))
        result = milp(
            self.costs,
            integrality=np.ones(self.n),
            bounds=Bounds(self.lower, np.ones(self.n)),
            constraints=[LinearConstraint(matrix, np.array(floor), np.inf)],
            options=HIGHS_MILP_OPTIONS,
        )
        if result.status != 0:
            raise SuppressionError(f"no suppression pattern protects the small counts: {result.message}")
        return [i for i in range(self.n) if result.x[i] > 0.5]


def suppress(model: LinkedTables, k: int, revision: Revision | None = None) -> Pattern:
    """The cheapest pattern (primary + complementary cells) that passes both attacks: no
    withheld cell pinned in the cautious reading (a), no small count capped below K in the
    public reading (b).

    ``revision``: the year's earlier public releases. Every cell suppressed in one of them stays
    suppressed (``Revision.carried``), and the attackers read them all together with the new
    release (:class:`Revision`): no withheld cell of any of them may give itself away."""
    started = time.perf_counter()
    primaries = primary_cells(model, k)
    joint = revision if revision is not None else Revision.alone(model)
    forced = set(primaries) | set(joint.carried)
    if not forced:
        return Pattern({}, 0, 0, time.perf_counter() - started)
    is_primary = set(primaries)
    master = _Master(model, sorted(forced))
    for iterations in range(1, MAX_ROUNDS + 1):
        if joint.joint and iterations == HOPELESS_AFTER:
            _refuse_if_hopeless(joint, k, forced, is_primary)
        status = {i: PRIMARY if i in is_primary else SECONDARY for i in master.solve()}
        attacker = joint.attacker(status, k)
        cuts = attacker.lp_cuts() + attacker.public_cuts() or attacker.integer_cuts()
        if not cuts:
            return Pattern(status, iterations, len(master.rows), time.perf_counter() - started, len(joint.carried))
        for cut in cuts:
            master.add(cut, joint)
    raise SuppressionError(f"no protecting suppression pattern found in {MAX_ROUNDS} rounds")


def naive_pattern(model: LinkedTables, k: int) -> dict[int, str]:
    """Primary suppression alone: what is shown to leak (tests, docs)."""
    return {i: PRIMARY for i in primary_cells(model, k)}


def suppressed_cells(model: LinkedTables, status: Mapping[int, str]) -> dict[CellKey, str]:
    """The published list: every withheld cell (percents of withheld counts included) with the
    one public flag, in table and row order."""
    ordered = [(i, 0, model.cells[i]) for i in status]
    ordered += [(count, 1, key) for key, count, _, _ in model.percents if count in status]
    return {key: WITHHELD for _, _, key in sorted(ordered)}


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
