"""The disclosure audit of the public-use tables: can any suppressed cell be worked out exactly?

Independent of how the suppression pattern was chosen (pipelines/public_copy/suppression.py): it reads only
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.core.config import HIGHS_MILP_OPTIONS, LP_TOLERANCE
from pipelines.public_copy.suppression import PRIMARY, SECONDARY, CellKey, LinkedTables

THIS_RELEASE = "this release"
"""How the audit names the release being made (it has no name before it is written)."""


@dataclass(frozen=True)
class PublicRelease:
    """One public release as anyone can read it: its public tables (suppressed cells empty), its
    list of suppressed cells with their status, and the K it was made with."""

    name: str
    tables: Mapping[str, pl.DataFrame]
    suppressed: Mapping[CellKey, str]
    k: int


@dataclass(frozen=True)
class Interval:
    """What an attacker can learn of one suppressed cell of one release."""

    cell: CellKey
    status: str
    lp: tuple[float, float]
    integer: tuple[int, int]
    release: str = THIS_RELEASE

    @property
    def width(self) -> float:
        return min(self.lp[1] - self.lp[0], self.integer[1] - self.integer[0])


@dataclass(frozen=True)
class AuditResult:
    intervals: list[Interval]
    problems: list[str]
    releases: tuple[str, ...] = (THIS_RELEASE,)
    """The releases audited together, oldest first; the new one last."""
    max_changes: tuple[tuple[str, str, int], ...] = ()
    """(older release, newer release, R) for every pair of releases linked in the attack."""

    @property
    def passed(self) -> bool:
        return not self.problems

    def figures(self) -> dict[str, dict[str, object]]:
        """Per table of the new release: suppressed cells, primary, secondary, narrowest
        whole-number interval (given every release audited with it)."""
        figures: dict[str, dict[str, object]] = {}
        for interval in self.intervals:
            if interval.release != self.releases[-1]:
                continue
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

    def joint(self) -> dict[str, object]:
        """Which releases were audited together, the largest change R between each pair, and
        the narrowest whole-number interval of any suppressed cell of any of them."""
        narrowest = min(self.intervals, key=lambda i: (i.integer[1] - i.integer[0], i.integer), default=None)
        return {
            "releases": list(self.releases),
            "max_change": [{"from": a, "to": b, "r": r} for a, b, r in self.max_changes],
            "narrowest_interval": list(narrowest.integer) if narrowest else None,
        }


def _cell_name(cell: CellKey) -> str:
    return f"{cell[0]}.{cell[2]} ['{cell[1]}' row]"


@dataclass
class _Block:
    """One release's unknowns (its empty cells) and what its own public tables state."""

    model: LinkedTables
    empty: list[int]
    status: list[str]
    equations: list[dict[int, float]]
    rhs: list[float]
    inequalities: list[dict[int, float]]
    upper: list[float]


def _block(release: PublicRelease, model_options: Mapping[str, object]) -> tuple[_Block | None, list[str]]:
    """The release's system over its empty cells (positions in ``empty``), or its problems: the
    public tables contradict themselves or their list of suppressed cells."""
    model = LinkedTables.from_tables(release.tables, **model_options)
    suppressed = release.suppressed
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
        return None, problems

    position = {cell: p for p, cell in enumerate(empty)}
    block = _Block(model, empty, [suppressed[model.cells[i]] for i in empty], [], [], [], [])
    # Equations over the empty cells: sum(coef * x) = -sum(coef * published value).
    for relation in model.relations:
        row: dict[int, float] = {}
        known = 0
        for i, coef in relation.items():
            if i in position:
                row[position[i]] = row.get(position[i], 0.0) + coef
            else:
                known += coef * model.values[i]
        row = {p: c for p, c in row.items() if c != 0}
        if not row:
            if known != 0:
                first = model.cells[min(relation)]
                problems.append(f"disclosure: the public tables do not add up at {_cell_name(first)}")
            continue
        block.equations.append(row)
        block.rhs.append(-known)
    # A published percent p of an empty count: (p - 0.005) * total <= 100 * count <= (p + 0.005) * total.
    for _, count, total, percent in model.percents:
        if percent is None or count not in position:
            continue
        for sign, edge in ((1.0, percent + 0.005), (-1.0, percent - 0.005)):
            row = {position[count]: sign * 100.0}
            bound = 0.0
            if total in position:
                row[position[total]] = row.get(position[total], 0.0) - sign * edge
            else:
                bound = sign * edge * model.values[total]
            block.inequalities.append(row)
            block.upper.append(bound)
    return (None, problems) if problems else (block, [])


def audit(
    tables: Mapping[str, pl.DataFrame],
    suppressed: Mapping[CellKey, str],
    k: int,
    **model_options: object,
) -> AuditResult:
    """Attack one public release alone. ``suppressed``: the published list, cell -> ``C`` or ``D``."""
    return joint_audit([PublicRelease(THIS_RELEASE, tables, suppressed, k)], {}, **model_options)


def joint_audit(
    releases: Sequence[PublicRelease],
    max_changes: Mapping[tuple[int, int], int],
    **model_options: object,
) -> AuditResult:
    """Attack public releases of one year together, oldest first, the new one last.

    ``max_changes``: for a pair of positions ``r < s``, the largest change R of any cell of a
    table that counts children between the two releases; the attacker knows that no such cell
    present in both moved by more than R. A pair without an entry is not linked.
    """
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp  # where HiGHS is used (suppression.py)

    names = tuple(release.name for release in releases)
    linked = tuple((names[r], names[s], int(change)) for (r, s), change in sorted(max_changes.items()))
    blocks: list[_Block] = []
    problems: list[str] = []
    for release in releases:
        block, found = _block(release, model_options)
        where = f"release {release.name}: " if len(releases) > 1 else ""
        problems.extend(f"disclosure: {where}{p.removeprefix('disclosure: ')}" for p in found)
        if block is not None:
            blocks.append(block)
    if problems:
        return AuditResult([], problems, names, linked)

    offsets = np.cumsum([0] + [len(b.empty) for b in blocks]).tolist()
    n = offsets[-1]
    if n == 0:
        return AuditResult([], [], names, linked)
    status = [s for b in blocks for s in b.status]
    k_of = [release.k for release, b in zip(releases, blocks) for _ in b.empty]
    children = [b.model.counts_children[i] for b in blocks for i in b.empty]

    def dense(rows: Sequence[dict[int, float]], offset: int) -> list[np.ndarray]:
        out = []
        for row in rows:
            full = np.zeros(n)
            for p, coef in row.items():
                full[offset + p] = coef
            out.append(full)
        return out

    equations, rhs, inequalities, upper = [], [], [], []
    for b, offset in zip(blocks, offsets):
        equations += dense(b.equations, offset)
        rhs += b.rhs
        inequalities += dense(b.inequalities, offset)
        upper += b.upper
    # The revision is small: |x_r - x_s| <= R for a cell of a table that counts children in both.
    for (r, s), change in sorted(max_changes.items()):
        first, second = blocks[r], blocks[s]
        where_first = {i: p for p, i in enumerate(first.empty)}
        where_second = {i: p for p, i in enumerate(second.empty)}
        for key, i in first.model.index.items():
            j = second.model.index.get(key)
            if j is None or not first.model.counts_children[i]:
                continue
            row = np.zeros(n)
            known = 0.0  # x_s - x_r = row . x + known
            if j in where_second:
                row[offsets[s] + where_second[j]] += 1.0
            else:
                known += second.model.values[j]
            if i in where_first:
                row[offsets[r] + where_first[i]] -= 1.0
            else:
                known -= first.model.values[i]
            if not row.any():
                if abs(known) > change:
                    problems.append(
                        f"disclosure: {_cell_name(key)} changed by more than R = {change} "
                        f"between releases {names[r]} and {names[s]}"
                    )
                continue
            inequalities += [row, -row]
            upper += [change - known, change + known]
    if problems:
        return AuditResult([], problems, names, linked)

    lower = np.array([1.0 if s == PRIMARY else 0.0 for s in status])
    high = np.array([kk - 1.0 if s == PRIMARY else np.inf for s, kk in zip(status, k_of)])
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
                return AuditResult(
                    [], [f"disclosure: no table agrees with the public release ({result.message})"], names, linked
                )
        lp.append((extremes[0], extremes[1]))

    # Whole numbers within the LP bounds; a D cell is 0 or >= k (binary z: k*z <= x <= cap*z).
    published_sum = sum(v for b in blocks for v in b.model.values if v is not None)
    # An unbounded cell gets a cap far above anything these tables count (the binaries need one).
    cap = [hi if math.isfinite(hi) else lo + 10.0 * (published_sum + max(k_of)) + 1e6 for lo, hi in lp]
    int_low = np.array([math.ceil(lo - LP_TOLERANCE) for lo, _ in lp], dtype=np.float64)
    int_high = np.array([math.floor(c + LP_TOLERANCE) for c in cap], dtype=np.float64)
    secondary = [p for p in range(n) if status[p] == SECONDARY and children[p]]
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
            link[2 * r + 1, p], link[2 * r + 1, n + r] = -1.0, float(k_of[p])
        constraints.append(LinearConstraint(link, -np.inf, 0.0))
    bounds = Bounds(np.concatenate([int_low, np.zeros(m)]), np.concatenate([int_high, np.ones(m)]))
    intervals = []
    owner = [(releases[r].name, b, i) for r, b in enumerate(blocks) for i in b.empty]
    for p in range(n):
        extremes = []
        for sign in (1.0, -1.0):
            c = np.zeros(width)
            c[p] = sign
            result = milp(
                c, integrality=np.ones(width), bounds=bounds, constraints=constraints, options=HIGHS_MILP_OPTIONS
            )
            if result.status != 0:
                return AuditResult(
                    [],
                    [f"disclosure: no whole-number table agrees with the public release ({result.message})"],
                    names,
                    linked,
                )
            extremes.append(round(sign * result.fun))
        name, block, i = owner[p]
        interval = Interval(block.model.cells[i], status[p], lp[p], (extremes[0], extremes[1]), name)
        intervals.append(interval)
        if interval.lp[1] - interval.lp[0] < LP_TOLERANCE or extremes[1] == extremes[0]:
            if len(releases) > 1:
                problems.append(
                    f"disclosure: {_cell_name(interval.cell)} ({status[p]}) of release {name} can be derived "
                    f"exactly from the public releases {', '.join(names)} together"
                )
            else:
                problems.append(
                    f"disclosure: {_cell_name(interval.cell)} ({status[p]}) can be derived exactly from "
                    "the public release"
                )
    return AuditResult(intervals, problems, names, linked)
