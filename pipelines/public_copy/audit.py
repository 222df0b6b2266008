"""The disclosure audit of the public-use tables: can any withheld cell be worked out, or any
small count be shown to be small?

Independent of how the pattern was chosen (pipelines/public_copy/suppression.py): it reads what
the public release states — the public tables, whose withheld cells are empty, and the list of
withheld cells, every one with the same flag — and, from the exact tables, which withheld cells
are small counts (what it must protect). It attacks every release of the year read together (a
revision, :func:`joint_audit`), in two readings:

(a) the cautious reading: the attacker is told which withheld cells are small (a small count
    lies in 1..K-1, any other withheld cell of a table that counts children is 0 or at least K).
    For every withheld cell it computes the minimum and the maximum over all tables that agree
    with every published cell, every row and column total, the cells tables share, the
    published percents and those bounds; none may be pinned to one value;
(b) the public reading, what the one flag leaves: every withheld cell is some non-negative whole
    number. For every small count (a category cell, or a total that is small, such as a state's
    8 cases) it computes its largest value; it must be at least K, or the count is shown to be
    small.

Both as linear programmes (``scipy.optimize.linprog``, HiGHS: an outer bound of the whole-number
range, since every whole-number table is also a real one) and with whole-number cells
(``scipy.optimize.milp``; in (a) with the 0-or-at-least-K disjunction): an LP optimum at a
whole-number table that satisfies every rule is the whole-number optimum too, and spares the
MILP. Publication of the public copy fails when (a) pins a cell (LP within 1e-6, or whole
numbers), when (b) caps a small count below K (LP or whole numbers), or when the public tables
contradict themselves or their list. The figures (cells withheld, small or not, narrowest
interval, least largest value of a small count, per table) go to the manifest and the Dagster
check metadata.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.core.config import HIGHS_MILP_OPTIONS, LP_TOLERANCE
from pipelines.public_copy.suppression import PRIMARY, SECONDARY, WITHHELD, CellKey, LinkedTables, cell_name

THIS_RELEASE = "this release"
"""How the audit names the release being made (it has no name before it is written)."""


def small_counts(exact: Mapping[str, pl.DataFrame], k: int, **model_options: object) -> frozenset[CellKey]:
    """The small counts of a release's exact tables: every count from 1 to K-1 of a table that
    counts children (what the public copy must withhold and protect)."""
    model = LinkedTables.from_tables(exact, **model_options)
    return frozenset(
        cell
        for cell, value, children in zip(model.cells, model.values, model.counts_children)
        if children and 0 < value < k
    )


@dataclass(frozen=True)
class PublicRelease:
    """One public release as anyone can read it: its public tables (withheld cells empty), its
    list of withheld cells with their flag and the K it was made with; and ``small``: its small
    counts, from its exact tables (never public)."""

    name: str
    tables: Mapping[str, pl.DataFrame]
    withheld: Mapping[CellKey, str]
    k: int
    small: frozenset[CellKey] = frozenset()


@dataclass(frozen=True)
class Interval:
    """What an attacker can learn of one withheld cell of one release: its range in the
    cautious reading (LP and whole numbers; ``exact`` False: a whole-number range the cell is
    known to have at least, enough to show it is neither pinned nor its table's narrowest, and
    no LP range) and, for a small count, its largest value in the public reading (LP, whole
    numbers; ``inf`` when nothing bounds it)."""

    cell: CellKey
    small: bool
    lp: tuple[float, float] | None
    integer: tuple[int, int]
    release: str = THIS_RELEASE
    largest: tuple[float, float] | None = None
    exact: bool = True

    @property
    def status(self) -> str:
        return PRIMARY if self.small else SECONDARY

    @property
    def width(self) -> float:
        lp = self.lp[1] - self.lp[0] if self.lp is not None else math.inf
        return min(lp, self.integer[1] - self.integer[0])


def _least_largest(intervals: Sequence[Interval]) -> int | None:
    """The least largest whole-number value of the small counts among ``intervals`` (None: no
    small count, or nothing bounds any of them)."""
    finite = [i.largest[1] for i in intervals if i.largest is not None and math.isfinite(i.largest[1])]
    return int(min(finite)) if finite else None


@dataclass(frozen=True)
class AuditResult:
    intervals: list[Interval]
    problems: list[str]
    releases: tuple[str, ...] = (THIS_RELEASE,)
    """The releases audited together, oldest first; the new one last."""
    max_changes: tuple[tuple[str, str, int], ...] = ()
    """(older release, newer release, R) for every pair of releases linked in the attack."""
    exposed: tuple[str, ...] = field(default=())
    """The cells that gave themselves away (``table, row, column``, and the release when it is an
    earlier one): names only, for the reason the public copy is withheld."""

    @property
    def passed(self) -> bool:
        return not self.problems

    def figures(self) -> dict[str, dict[str, object]]:
        """Per table of the new release: withheld cells, small (primary) or not (secondary),
        narrowest whole-number interval of the cautious reading, least largest value of a small
        count in the public reading (given every release audited with it)."""
        own = [i for i in self.intervals if i.release == self.releases[-1]]
        figures: dict[str, dict[str, object]] = {}
        for table in sorted({i.cell[0] for i in own}):
            cells = [i for i in own if i.cell[0] == table]
            narrowest = min(cells, key=lambda i: (i.integer[1] - i.integer[0], not i.exact, i.integer))
            figures[table] = {
                "suppressed": len(cells),
                "primary": sum(i.small for i in cells),
                "secondary": sum(not i.small for i in cells),
                "narrowest_interval": list(narrowest.integer),
                "smallest_maximum": _least_largest(cells),
            }
        return figures

    def joint(self) -> dict[str, object]:
        """Which releases were audited together, the largest change R between each pair, the
        narrowest whole-number interval of any withheld cell of any of them, and the least
        largest value of any of their small counts."""
        narrowest = min(
            self.intervals, key=lambda i: (i.integer[1] - i.integer[0], not i.exact, i.integer), default=None
        )
        return {
            "releases": list(self.releases),
            "max_change": [{"from": a, "to": b, "r": r} for a, b, r in self.max_changes],
            "narrowest_interval": list(narrowest.integer) if narrowest else None,
            "smallest_maximum": _least_largest(self.intervals),
        }


@dataclass
class _Block:
    """One release's unknowns (its empty cells) and what its own public tables state."""

    release: PublicRelease
    model: LinkedTables
    empty: list[int]
    equations: list[dict[int, float]] = field(default_factory=list)
    rhs: list[float] = field(default_factory=list)
    inequalities: list[dict[int, float]] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)


def _listing_problems(model: LinkedTables, release: PublicRelease) -> list[str]:
    """The public tables disagree with their list of withheld cells, or a flag tells cells apart."""
    listed = release.withheld
    problems: list[str] = []
    empty = {i for i, value in enumerate(model.values) if value is None}
    in_list = {model.index[c] for c in listed if c in model.index}
    percents = {key for key, _, _, _ in model.percents}
    shown_percents = {key for key, _, _, value in model.percents if value is not None}
    for cell in sorted(set(listed) - set(model.index)):
        if cell in shown_percents:
            problems.append(f"disclosure: {cell_name(cell)} is listed as withheld but published")
        elif cell not in percents:
            problems.append(f"disclosure: {cell_name(cell)} is listed as withheld but not in the tables")
    problems += [
        f"disclosure: {cell_name(model.cells[i])} is empty but not listed as withheld" for i in sorted(empty - in_list)
    ]
    problems += [
        f"disclosure: {cell_name(model.cells[i])} is listed as withheld but published" for i in sorted(in_list - empty)
    ]
    for cell, flag in sorted(listed.items()):
        if flag != WITHHELD:
            problems.append(
                f"disclosure: {cell_name(cell)} has flag '{flag}', not {WITHHELD}: one flag for every withheld cell"
            )
    return problems


def _published_small(model: LinkedTables, release: PublicRelease) -> list[CellKey]:
    """Small counts the public tables show (the attack still runs: it can say more)."""
    return [c for c in sorted(release.small) if c in model.index and model.values[model.index[c]] is not None]


def _block(release: PublicRelease, model_options: Mapping[str, object]) -> tuple[_Block | None, list[str]]:
    """The release's system over its empty cells (positions in ``empty``), or its problems: the
    public tables contradict themselves or their list of withheld cells."""
    model = LinkedTables.from_tables(release.tables, **model_options)
    problems = _listing_problems(model, release)
    if problems:
        return None, problems
    block = _Block(release, model, [i for i, value in enumerate(model.values) if value is None])
    position = {cell: p for p, cell in enumerate(block.empty)}
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
        if row:
            block.equations.append(row)
            block.rhs.append(-known)
        elif known != 0:
            problems.append(f"disclosure: the public tables do not add up at {cell_name(model.cells[min(relation)])}")
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


@dataclass
class _System:
    """The unknowns of every release read together (each release's empty cells, in release
    order) and what the releases state about them: ``a_eq x = b_eq``, ``a_ub x <= b_ub``."""

    blocks: list[_Block]
    a_eq: np.ndarray
    b_eq: np.ndarray
    a_ub: np.ndarray
    b_ub: np.ndarray

    @property
    def owners(self) -> list[tuple[_Block, int]]:
        return [(b, i) for b in self.blocks for i in b.empty]

    def lp(
        self, p: int | np.ndarray, sign: float, low: np.ndarray, high: np.ndarray
    ) -> tuple[float, np.ndarray | None]:
        """The least (``sign`` 1) or greatest (-1) value of unknown ``p`` (or of the sum of
        several) as an LP, and the table where it is reached (None when unbounded)."""
        from scipy.optimize import linprog  # HiGHS, imported where it solves (suppression.py)

        c = np.zeros(len(low))
        c[p] = sign
        bounds = list(zip(low, [None if math.isinf(h) else h for h in high]))
        eq = {"A_eq": self.a_eq, "b_eq": self.b_eq} if len(self.b_eq) else {}
        ub = {"A_ub": self.a_ub, "b_ub": self.b_ub} if len(self.b_ub) else {}
        result = linprog(c, **eq, **ub, bounds=bounds, method="highs")
        if result.status == 3:
            return -sign * math.inf, None
        if result.status != 0:
            raise _Contradiction(f"disclosure: no table agrees with the public release ({result.message})")
        return sign * result.fun, result.x

    def whole(
        self, p: int, sign: float, low: np.ndarray, high: np.ndarray, either: Sequence[tuple[int, int]]
    ) -> tuple[int, np.ndarray]:
        """The least or greatest whole-number value of unknown ``p`` (MILP), and the table where
        it is reached. ``either``: (unknown, k) pairs that are 0 or at least k (a binary each;
        ``high`` finite there)."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        n, m = len(low), len(either)
        constraints = []
        if len(self.b_eq):
            constraints.append(
                LinearConstraint(np.hstack([self.a_eq, np.zeros((len(self.b_eq), m))]), self.b_eq, self.b_eq)
            )
        if len(self.b_ub):
            constraints.append(
                LinearConstraint(np.hstack([self.a_ub, np.zeros((len(self.b_ub), m))]), -np.inf, self.b_ub)
            )
        if m:
            link = np.zeros((2 * m, n + m))
            for r, (q, k) in enumerate(either):
                link[2 * r, q], link[2 * r, n + r] = 1.0, -high[q]
                link[2 * r + 1, q], link[2 * r + 1, n + r] = -1.0, float(k)
            constraints.append(LinearConstraint(link, -np.inf, 0.0))
        c = np.zeros(n + m)
        c[p] = sign
        bounds = Bounds(np.concatenate([low, np.zeros(m)]), np.concatenate([high, np.ones(m)]))
        result = milp(c, integrality=np.ones(n + m), bounds=bounds, constraints=constraints, options=HIGHS_MILP_OPTIONS)
        if result.status != 0:
            raise _Contradiction(f"disclosure: no whole-number table agrees with the public release ({result.message})")
        return round(sign * result.fun), np.round(result.x[:n])

    def whole_at(self, x: np.ndarray | None, either: Sequence[tuple[int, int]]) -> bool:
        """Whether an LP optimum ``x`` is a whole-number table that keeps every rule (then it is
        the whole-number optimum as well)."""
        if x is None or not np.allclose(x, np.round(x), rtol=0.0, atol=1e-9):
            return False
        point = np.round(x)
        if len(self.b_ub) and np.any(self.a_ub @ point > self.b_ub + 1e-9):
            return False
        return all(point[q] == 0 or point[q] >= k for q, k in either)


class _Contradiction(Exception):
    """No table agrees with what the releases state (a problem of the audit, not a leak)."""


def _dense(rows: Sequence[dict[int, float]], offset: int, n: int) -> list[np.ndarray]:
    out = []
    for row in rows:
        full = np.zeros(n)
        for p, coef in row.items():
            full[offset + p] = coef
        out.append(full)
    return out


def _joint_system(blocks: list[_Block], max_changes: Mapping[tuple[int, int], int]) -> tuple[_System, list[str]]:
    """Every release's statements over all unknowns, and the revision's: no cell of a table that
    counts children present in releases ``r`` and ``s`` moved by more than R (``|x_s - x_r| <=
    R``); a published change larger than R is a problem."""
    offsets = np.cumsum([0] + [len(b.empty) for b in blocks]).tolist()
    n = offsets[-1]
    equations, rhs, inequalities, upper, problems = [], [], [], [], []
    for b, offset in zip(blocks, offsets):
        equations += _dense(b.equations, offset, n)
        rhs += b.rhs
        inequalities += _dense(b.inequalities, offset, n)
        upper += b.upper
    for (r, s), change in sorted(max_changes.items()):
        first, second = blocks[r], blocks[s]
        where_first = {i: offsets[r] + p for p, i in enumerate(first.empty)}
        where_second = {i: offsets[s] + p for p, i in enumerate(second.empty)}
        for key, i in first.model.index.items():
            j = second.model.index.get(key)
            if j is None or not first.model.counts_children[i]:
                continue
            row = np.zeros(n)
            known = 0.0  # x_s - x_r = row . x + known
            if j in where_second:
                row[where_second[j]] += 1.0
            else:
                known += second.model.values[j]
            if i in where_first:
                row[where_first[i]] -= 1.0
            else:
                known -= first.model.values[i]
            if row.any():
                inequalities += [row, -row]
                upper += [change - known, change + known]
            elif abs(known) > change:
                problems.append(
                    f"disclosure: {cell_name(key)} changed by more than R = {change} between releases "
                    f"{first.release.name} and {second.release.name}"
                )

    def matrix(rows: list[np.ndarray]) -> np.ndarray:
        return np.array(rows) if rows else np.zeros((0, n))

    system = _System(blocks, matrix(equations), np.array(rhs), matrix(inequalities), np.array(upper))
    return system, problems


@dataclass(frozen=True)
class _Range:
    """A withheld cell's range in the cautious reading: its LP range and whole-number range
    (``exact``), or, for a cell that cannot be the narrowest of its table, the whole-number
    range two tables found on the way show it has at least (``exact`` False)."""

    lp: tuple[float, float] | None
    integer: tuple[int, int]
    exact: bool = True


def _caps(system: _System, low: np.ndarray, high: np.ndarray, either: Sequence[tuple[int, int]]) -> np.ndarray:
    """``high`` with a finite upper bound for every cell of the disjunction (its binary needs
    one): the LP maximum of their sum (they are all >= 0), or, when that is unbounded, each
    one's own LP maximum, or a cap far above anything these tables count."""
    high = high.copy()
    cells = [q for q, _ in either]
    if not cells:
        return high
    published = sum(v for b in system.blocks for v in b.model.values if v is not None)
    far = 10.0 * (published + max(k for _, k in either)) + 1e6
    total, _ = system.lp(np.array(cells), -1.0, low, high)
    for q in cells:
        most = total if math.isfinite(total) else system.lp(q, -1.0, low, high)[0]
        high[q] = math.floor(most + LP_TOLERANCE) if math.isfinite(most) else far
    return high


def _cautious(system: _System) -> list[_Range]:
    """(a) Every withheld cell's range when the attacker is told which cells are small: a small
    count in 1..K-1, any other withheld cell >= 0 and, in a table that counts children, 0 or
    >= K with whole numbers. Per cell an LP, and a MILP only where the LP optimum is not a
    whole-number table that keeps the rules. Every whole-number table found shows a range each
    cell has at least; a cell whose range so shown is wider than the narrowest exact one of its
    table (and not a single value) is not solved: it can be neither pinned nor the narrowest."""
    owners = system.owners
    n = len(owners)
    small = [b.model.cells[i] in b.release.small for b, i in owners]
    either = [(p, b.release.k) for p, (b, i) in enumerate(owners) if b.model.counts_children[i] and not small[p]]
    low = np.array([1.0 if s else 0.0 for s in small])
    high = np.array([b.release.k - 1.0 if s else math.inf for s, (b, _) in zip(small, owners)])
    high = _caps(system, low, high, either)
    seen_low, seen_high = np.full(n, np.inf), np.full(n, -np.inf)
    best: dict[tuple[str, str], int] = {}
    ranges: list[_Range | None] = [None] * n
    todo = set(range(n))
    while todo:
        p = min(todo, key=lambda q: (seen_high[q] - seen_low[q], q))
        todo.remove(p)
        block, i = owners[p]
        group = (block.release.name, block.model.cells[i][0])
        width = seen_high[p] - seen_low[p]
        if width > 0 and width >= best.get(group, math.inf):
            ranges[p] = _Range(None, (int(seen_low[p]), int(seen_high[p])), exact=False)
            continue
        lp, ends = [], []
        for sign in (1.0, -1.0):
            value, x = system.lp(p, sign, low, high)
            if system.whole_at(x, either):
                end, x = round(value), np.round(x)
            else:
                end, x = system.whole(p, sign, low, high, either)
            lp.append(value)
            ends.append(end)
            seen_low, seen_high = np.minimum(seen_low, x), np.maximum(seen_high, x)
        ranges[p] = _Range((lp[0], lp[1]), (ends[0], ends[1]))
        best[group] = min(best.get(group, ends[1] - ends[0]), ends[1] - ends[0])
    return ranges


def _public(system: _System) -> dict[int, tuple[float, float]]:
    """(b) The largest value of every small count from what is public alone (every withheld cell
    a non-negative whole number): LP, then whole numbers (``inf`` when unbounded)."""
    owners = system.owners
    low, high = np.zeros(len(owners)), np.full(len(owners), math.inf)
    largest = {}
    for p, (b, i) in enumerate(owners):
        if b.model.cells[i] not in b.release.small:
            continue
        most, at = system.lp(p, -1.0, low, high)
        if math.isinf(most) or system.whole_at(at, ()):
            largest[p] = (most, float(round(most)) if math.isfinite(most) else most)
        else:
            largest[p] = (most, float(system.whole(p, -1.0, low, high, ())[0]))
    return largest


def audit(
    tables: Mapping[str, pl.DataFrame],
    withheld: Mapping[CellKey, str],
    k: int,
    small: frozenset[CellKey] = frozenset(),
    **model_options: object,
) -> AuditResult:
    """Attack one public release alone. ``withheld``: the published list, cell -> flag;
    ``small``: its small counts (from the exact tables, :func:`small_counts`)."""
    return joint_audit([PublicRelease(THIS_RELEASE, tables, withheld, k, small)], {}, **model_options)


def joint_audit(
    releases: Sequence[PublicRelease],
    max_changes: Mapping[tuple[int, int], int],
    **model_options: object,
) -> AuditResult:
    """Attack public releases of one year together, oldest first, the new one last, in both
    readings.

    ``max_changes``: for a pair of positions ``r < s``, the largest change R of any cell of a
    table that counts children between the two releases; the attacker knows that no such cell
    present in both moved by more than R. A pair without an entry is not linked.
    """
    names = tuple(release.name for release in releases)
    linked = tuple((names[r], names[s], int(change)) for (r, s), change in sorted(max_changes.items()))
    blocks, problems = [], []
    for release in releases:
        block, found = _block(release, model_options)
        where = f"release {release.name}: " if len(releases) > 1 else ""
        problems += [f"disclosure: {where}{p.removeprefix('disclosure: ')}" for p in found]
        blocks.append(block)
    if problems:
        return AuditResult([], problems, names, linked)
    system, problems = _joint_system(blocks, max_changes)
    shown = [cell_name(c) for b in blocks for c in _published_small(b.model, b.release)]
    problems += [f"disclosure: {name} is a small count and published" for name in shown]
    if not system.owners:
        return AuditResult([], problems, names, linked, tuple(shown))
    try:
        ranges = _cautious(system)
        largest = _public(system)
    except _Contradiction as contradiction:
        return AuditResult([], [*problems, str(contradiction)], names, linked)
    judged = _judged(system, ranges, largest, names, linked)
    return dataclasses.replace(judged, problems=problems + judged.problems, exposed=(*shown, *judged.exposed))


def _judged(
    system: _System,
    ranges: Sequence[_Range],
    largest: Mapping[int, tuple[float, float]],
    names: tuple[str, ...],
    linked: tuple[tuple[str, str, int], ...],
) -> AuditResult:
    """The intervals and every cell that gives itself away, named (never a value)."""
    together = (
        f" from the public releases {', '.join(names)} together" if len(names) > 1 else " from the public release"
    )
    intervals, problems, exposed = [], [], []
    for p, (block, i) in enumerate(system.owners):
        cell, release, found = block.model.cells[i], block.release, ranges[p]
        interval = Interval(
            cell, cell in release.small, found.lp, found.integer, release.name, largest.get(p), found.exact
        )
        intervals.append(interval)
        name = cell_name(cell) + (f" (release {release.name})" if len(names) > 1 else "")
        if interval.width < LP_TOLERANCE:
            problems.append(
                f"disclosure: {name} can be derived exactly{together}, by an attacker told which cells are small"
            )
        elif p in largest and min(largest[p]) < release.k - LP_TOLERANCE:
            problems.append(f"disclosure: {name}, a small count, can be shown to be below K = {release.k}{together}")
        else:
            continue
        exposed.append(cell_name(cell) + ("" if release.name == names[-1] else f" (release {release.name})"))
    return AuditResult(intervals, problems, names, linked, tuple(exposed))
