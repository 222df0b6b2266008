"""The disclosure audit of the public-use tables: can any suppressed cell be worked out exactly?

Independent of how the suppression pattern was chosen (pipelines/validation/disclosure.py): it reads only
what the public release states — the public tables, whose suppressed cells are empty, and the
list of suppressed cells with their SDMX CONF_STATUS — and attacks them. For every empty cell it
computes the minimum and the maximum the cell can take over all tables that agree with every
published cell, every row and column total, the cells tables share, the published percents, and
the status list (a ``C`` cell lies in 1..K-1; a ``D`` cell of a table that counts children is 0
or at least K, or it would be ``C``), with every cell a non-negative whole number.

Two computations, both with HiGHS:

* the linear programme (``scipy.optimize.linprog``): the continuous interval, an outer bound of
  the whole-number one (every whole-number table is also a real one);
* the same problem with whole-number cells and the ``D`` disjunction (``scipy.optimize.milp``),
  started from the LP bounds: the exact interval an attacker who knows the rules can reach.

Publication fails when any interval has zero width — the LP's (within 1e-6) or the
whole-number one — or when the public tables contradict themselves or the status list.
The figures (cells suppressed, primary/secondary, narrowest interval per table) go to the
manifest and the Dagster check metadata.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from pipelines.validation.disclosure import PRIMARY, SECONDARY, CellKey, LinkedTables

WIDTH_TOLERANCE = 1e-6
OPTIONS = {"presolve": True, "mip_rel_gap": 0.0, "disp": False}


@dataclass(frozen=True)
class Interval:
    """What an attacker can learn of one suppressed cell."""

    cell: CellKey
    status: str
    lp: tuple[float, float]
    integer: tuple[int, int]

    @property
    def width(self) -> float:
        return min(self.lp[1] - self.lp[0], self.integer[1] - self.integer[0])


@dataclass(frozen=True)
class AuditResult:
    intervals: list[Interval]
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems

    def figures(self) -> dict[str, dict[str, object]]:
        """Per table: suppressed cells, primary, secondary, narrowest whole-number interval."""
        figures: dict[str, dict[str, object]] = {}
        for interval in self.intervals:
            table = figures.setdefault(
                interval.cell[0], {"suppressed": 0, "primary": 0, "secondary": 0, "narrowest_interval": None}
            )
            table["suppressed"] += 1
            table["primary" if interval.status == PRIMARY else "secondary"] += 1
            low, high = interval.integer
            narrowest = table["narrowest_interval"]
            if narrowest is None or high - low < narrowest[1] - narrowest[0]:
                table["narrowest_interval"] = [low, high]
        return dict(sorted(figures.items()))


def _cell_name(cell: CellKey) -> str:
    return f"{cell[0]}.{cell[2]} ['{cell[1]}' row]"


def audit(
    tables: Mapping[str, pl.DataFrame],
    suppressed: Mapping[CellKey, str],
    k: int,
    **model_options: object,
) -> AuditResult:
    """Attack the public tables. ``suppressed``: the published list, cell -> ``C`` or ``D``."""
    model = LinkedTables.from_tables(tables, **model_options)
    problems: list[str] = []
    empty = [i for i, value in enumerate(model.values) if value is None]
    listed = {model.index[c] for c in suppressed if c in model.index}
    percents = {key for key, _, _, _ in model.percents}
    shown_percents = {key for key, _, _, value in model.percents if value is not None}
    for cell in sorted(set(suppressed) - set(model.index)):
        if cell in shown_percents:
            problems.append(f"disclosure: {_cell_name(cell)} is listed as suppressed but published")
        elif cell not in percents:
            problems.append(f"disclosure: {_cell_name(cell)} is listed as suppressed but not in the tables")
    for i in empty:
        if i not in listed:
            problems.append(f"disclosure: {_cell_name(model.cells[i])} is empty but not listed as suppressed")
    for i in sorted(listed - set(empty)):
        problems.append(f"disclosure: {_cell_name(model.cells[i])} is listed as suppressed but published")
    for cell, code in sorted(suppressed.items()):
        if code not in (PRIMARY, SECONDARY):
            problems.append(f"disclosure: {_cell_name(cell)} has status '{code}', not C or D")
    if problems:
        return AuditResult([], problems)
    if not empty:
        return AuditResult([], [])

    position = {cell: p for p, cell in enumerate(empty)}
    status = [suppressed[model.cells[i]] for i in empty]
    n = len(empty)

    # Equations over the empty cells: sum(coef * x) = -sum(coef * published value).
    equations, rhs = [], []
    for relation in model.relations:
        row = np.zeros(n)
        known = 0
        for i, coef in relation.items():
            if i in position:
                row[position[i]] = coef
            else:
                known += coef * model.values[i]
        if not row.any():
            if known != 0:
                first = model.cells[min(relation)]
                problems.append(f"disclosure: the public tables do not add up at {_cell_name(first)}")
            continue
        equations.append(row)
        rhs.append(-known)
    # A published percent p of an empty count: (p - 0.005) * total <= 100 * count <= (p + 0.005) * total.
    inequalities, upper = [], []
    for _, count, total, percent in model.percents:
        if percent is None or count not in position:
            continue
        for sign, edge in ((1.0, percent + 0.005), (-1.0, percent - 0.005)):
            row = np.zeros(n)
            row[position[count]] += sign * 100.0
            bound = 0.0
            if total in position:
                row[position[total]] -= sign * edge
            else:
                bound = sign * edge * model.values[total]
            inequalities.append(row)
            upper.append(bound)
    if problems:
        return AuditResult([], problems)

    lower = np.array([1.0 if s == PRIMARY else 0.0 for s in status])
    high = np.array([k - 1.0 if s == PRIMARY else np.inf for s in status])
    a_eq = np.array(equations) if equations else None
    b_eq = np.array(rhs) if equations else None
    a_ub = np.array(inequalities) if inequalities else None
    b_ub = np.array(upper) if inequalities else None
    lp_bounds = list(zip(lower, [None if math.isinf(h) else h for h in high]))
    lp: list[tuple[float, float]] = []
    for p in range(n):
        extremes = []
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[p] = sign
            result = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=lp_bounds, method="highs")
            if result.status == 3:
                extremes.append(-sign * math.inf)
            elif result.status == 0:
                extremes.append(sign * result.fun)
            else:
                return AuditResult([], [f"disclosure: no table agrees with the public release ({result.message})"])
        lp.append((extremes[0], extremes[1]))

    # Whole numbers within the LP bounds; a D cell is 0 or >= k (binary z: k*z <= x <= cap*z).
    published_sum = sum(v for v in model.values if v is not None)
    # An unbounded cell gets a cap far above anything these tables count (the binaries need one).
    cap = [hi if math.isfinite(hi) else lo + 10.0 * (published_sum + k) + 1e6 for lo, hi in lp]
    int_low = np.array([math.ceil(lo - WIDTH_TOLERANCE) for lo, _ in lp], dtype=np.float64)
    int_high = np.array([math.floor(c + WIDTH_TOLERANCE) for c in cap], dtype=np.float64)
    secondary = [p for p in range(n) if status[p] == SECONDARY and model.counts_children[empty[p]]]
    m = len(secondary)
    width = n + m
    constraints = []
    if equations:
        constraints.append(LinearConstraint(np.hstack([a_eq, np.zeros((len(equations), m))]), b_eq, b_eq))
    if inequalities:
        constraints.append(LinearConstraint(np.hstack([a_ub, np.zeros((len(inequalities), m))]), -np.inf, b_ub))
    if m:
        link = np.zeros((2 * m, width))
        for r, p in enumerate(secondary):
            link[2 * r, p], link[2 * r, n + r] = 1.0, -int_high[p]
            link[2 * r + 1, p], link[2 * r + 1, n + r] = -1.0, float(k)
        constraints.append(LinearConstraint(link, -np.inf, 0.0))
    bounds = Bounds(np.concatenate([int_low, np.zeros(m)]), np.concatenate([int_high, np.ones(m)]))
    intervals = []
    for p in range(n):
        extremes = []
        for sign in (1.0, -1.0):
            c = np.zeros(width)
            c[p] = sign
            result = milp(c, integrality=np.ones(width), bounds=bounds, constraints=constraints, options=OPTIONS)
            if result.status != 0:
                return AuditResult(
                    [], [f"disclosure: no whole-number table agrees with the public release ({result.message})"]
                )
            extremes.append(round(sign * result.fun))
        interval = Interval(model.cells[empty[p]], status[p], lp[p], (extremes[0], extremes[1]))
        intervals.append(interval)
        if interval.lp[1] - interval.lp[0] < WIDTH_TOLERANCE or extremes[1] == extremes[0]:
            problems.append(
                f"disclosure: {_cell_name(interval.cell)} ({status[p]}) can be derived exactly from the public release"
            )
    return AuditResult(intervals, problems)
