"""``cases.csv``: one row per case, including rows outside the year's population and every
boundary the population and status rules have to get right (see the package docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core.contract import CASES
from pipelines.demo.common import AGE_GROUPS, CASE_TYPES, RACES, STATES, check_codes, day, random_stream, write_csv

# Which age groups each case type takes, in order of preference, when the case-type and
# age-group totals of the profile are joined into one set of rows (see case_type_by_age_group).
# Missing young adults are 18-20 by definition; family abductions are mostly young children;
# nonfamily abductions mostly young teenagers; "lost, injured or otherwise missing" takes what
# is left of the young adults, the unknown ages and the young children; endangered runaways,
# processed last, take whatever remains. The case types are taken in this order.
_AGE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "MYA": ("18-20",),
    "FA": ("0-2", "3-5", "6-8", "9-11", "12-14", "15-17", "unknown"),
    "NFA": ("12-14", "15-17", "9-11", "6-8", "3-5", "0-2", "unknown"),
    "LIOM": ("18-20", "unknown", "9-11", "6-8", "3-5", "0-2", "12-14", "15-17"),
    "ERU": ("15-17", "12-14", "9-11", "6-8", "3-5", "0-2", "unknown", "18-20"),
}

_EXPORT_DAYS_AFTER_YEAR_END = 14
"""The export of year Y is taken on January 14 of Y+1: no date in it is later than that."""


def _check_age_preference() -> None:
    """The preferences take every case type of the seed, and only age groups of the seed."""
    problem = check_codes(_AGE_PREFERENCE, CASE_TYPES, "sql/seeds/case_types.csv")
    unknown = sorted({group for groups in _AGE_PREFERENCE.values() for group in groups} - set(AGE_GROUPS))
    if unknown:
        problem = f"age groups {unknown} that sql/seeds/age_groups.csv does not have"
    if problem:
        raise ValueError(f"the demo generator's age preferences (pipelines/demo/cases.py) have {problem}")


def case_type_by_age_group(profile: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Join the case-type and age-group totals into cell counts, greedily by preference.

    Any matrix with the right row and column sums reproduces both published tables; the greedy
    order (_AGE_PREFERENCE) keeps the ages believable for each case type.
    """
    _check_age_preference()
    cases = profile["cases"]
    type_left = {t: sum(v) for t, v in cases["status_by_case_type"].items()}
    group_left = {g: sum(v) for g, v in cases["race_by_age_group"].items()}
    cells: dict[tuple[str, str], int] = {}
    for case_type, preferred in _AGE_PREFERENCE.items():
        for group in preferred:
            take = min(type_left[case_type], group_left[group])
            if take:
                cells[(case_type, group)] = take
                type_left[case_type] -= take
                group_left[group] -= take
        if type_left[case_type]:
            raise ValueError(
                f"demo profile {profile['year']}: not enough cases in the age groups "
                f"{_AGE_PREFERENCE[case_type]} for case type {case_type}"
            )
    return cells


@dataclass(frozen=True)
class _Calendar:
    """The days a year's export is about: Y (``y0``..``y1``, ``days`` of them), Y-1 (``p0``..``p1``,
    ``days_prev``), January 1 of Y+1 (``n0``) and the day the export is taken (``cutoff``,
    mid-January of Y+1)."""

    y0: np.datetime64
    y1: np.datetime64
    p0: np.datetime64
    p1: np.datetime64
    n0: np.datetime64
    cutoff: np.datetime64
    days: int
    days_prev: int

    @classmethod
    def of(cls, year: int) -> _Calendar:
        y0, y1 = day(f"{year}-01-01"), day(f"{year}-12-31")
        p0, p1 = day(f"{year - 1}-01-01"), day(f"{year - 1}-12-31")
        n0 = day(f"{year + 1}-01-01")
        days, days_prev = int((y1 - y0).astype(int)) + 1, int((p1 - p0).astype(int)) + 1
        return cls(y0, y1, p0, p1, n0, n0 + (_EXPORT_DAYS_AFTER_YEAR_END - 1), days, days_prev)


_NAT = np.datetime64("NaT", "D")


def _spans(rng: np.random.Generator, start: np.ndarray, end: np.datetime64) -> np.ndarray:
    """Uniform day in [start, end] per row (end >= start)."""
    return start + rng.integers(0, (end - start).astype(np.int64) + 1)


def _durations(rng: np.random.Generator, size: int) -> np.ndarray:
    """Days until recovery: most children are found within days, a few after months."""
    return np.floor(rng.lognormal(mean=math.log(4.0), sigma=1.3, size=size)).astype(np.int64)


def _exponential_days(rng: np.random.Generator, scale: float, size: int, most: int) -> np.ndarray:
    return np.minimum(np.floor(rng.exponential(scale, size=size)).astype(np.int64), most)


@dataclass
class _Population:
    """One entry per counted case: case type, age group, status, race, state and age (-1: unknown)."""

    types: np.ndarray
    groups: np.ndarray
    active: np.ndarray
    race: np.ndarray
    state: np.ndarray
    age: np.ndarray


def _population(profile: dict[str, Any], rng: np.random.Generator) -> _Population:
    """Case type, status, age group, race and state drawn so that each published table holds
    exactly (status within case type, race within age group, state within status, each a
    shuffled multiset)."""
    cases = profile["cases"]
    cells = case_type_by_age_group(profile)
    types = np.array([t for (t, g), c in cells.items() for _ in range(c)], dtype=object)
    groups = np.array([g for (t, g), c in cells.items() for _ in range(c)], dtype=object)
    n = len(types)

    active = np.zeros(n, dtype=bool)
    for case_type, (n_active, _n_resolved) in cases["status_by_case_type"].items():
        members = np.flatnonzero(types == case_type)
        active[rng.choice(members, size=n_active, replace=False)] = True

    race = np.empty(n, dtype=object)
    for group, counts in cases["race_by_age_group"].items():
        labels = np.repeat(np.array(RACES, dtype=object), counts)
        rng.shuffle(labels)
        race[np.flatnonzero(groups == group)] = labels

    state = np.empty(n, dtype=object)
    for column, is_active in ((0, True), (1, False)):
        labels = np.repeat(np.array(STATES, dtype=object), [cases["status_by_state"][s][column] for s in STATES])
        rng.shuffle(labels)
        state[np.flatnonzero(active == is_active)] = labels

    age = np.full(n, -1, dtype=np.int64)
    for group, bounds in AGE_GROUPS.items():
        if bounds is not None:
            members = np.flatnonzero(groups == group)
            age[members] = rng.integers(bounds[0], bounds[1] + 1, size=len(members))
    return _Population(types, groups, active, race, state, age)


def _population_dates(
    active: np.ndarray, rules: dict[str, Any], cal: _Calendar, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Intake and resolution dates of the counted cases, by kind: resolved in Y, recovered in Y
    from earlier years, still open, found in January of Y+1 (Active: status is as of Dec 31)."""
    n, days = len(active), cal.days
    intake = np.empty(n, dtype="datetime64[D]")
    resolved = np.full(n, _NAT, dtype="datetime64[D]")

    resolved_rows = np.flatnonzero(~active)
    recoveries = rng.choice(resolved_rows, size=rules["prior_year_recoveries"], replace=False)
    in_year = np.setdiff1d(resolved_rows, recoveries)
    # Opened and resolved in Y.
    intake[in_year] = cal.y0 + rng.integers(0, days, size=len(in_year))
    ends = intake[in_year] + _durations(rng, len(in_year))
    late = ends > cal.y1
    ends[late] = _spans(rng, intake[in_year][late], cal.y1)
    resolved[in_year] = ends
    # Opened before Y (mostly late in Y-1, a few in Y-2), recovered in Y: counted, Resolved.
    intake[recoveries] = cal.p1 - _exponential_days(rng, 110.0, len(recoveries), 700)
    resolved[recoveries] = cal.y0 + _exponential_days(rng, 45.0, len(recoveries), days - 1)

    active_rows = np.flatnonzero(active)
    next_year = rng.choice(active_rows, size=rules["active_resolved_next_year"], replace=False)
    still_open = np.setdiff1d(active_rows, next_year)
    # Opened in Y, still open at export time: later intakes more likely (older ones got resolved).
    intake[still_open] = cal.y1 - _exponential_days(rng, 150.0, len(still_open), days - 1)
    # Opened in Y, found in January of Y+1: counted, Active (status is as of Dec 31).
    intake[next_year] = cal.y1 - _exponential_days(rng, 20.0, len(next_year), days - 1)
    resolved[next_year] = cal.n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=len(next_year))
    jan2 = next_year[: rules["active_missing_dec31_found_jan2"]]
    intake[jan2] = cal.y1
    resolved[jan2] = cal.n0 + 1
    return intake, resolved


_EXCLUDED = (
    "excluded_prior_still_open",
    "excluded_prior_resolved_prior",
    "excluded_prior_resolved_next",
    "excluded_next_year",
)
"""The rows the export holds but the population excludes, in the order they are drawn."""


def _excluded_dates(kind: str, size: int, cal: _Calendar, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Intake and resolution dates of ``size`` rows the population excludes, of one kind."""
    if kind == "excluded_prior_still_open":  # opened up to ~8 years before Y, never resolved
        return cal.p1 - _exponential_days(rng, 500.0, size, 3000), np.full(size, _NAT, dtype="datetime64[D]")
    if kind == "excluded_prior_resolved_prior":  # opened and resolved in Y-1
        start = cal.p0 + rng.integers(0, cal.days_prev, size=size)
        end = start + _durations(rng, size)
        over = end > cal.p1
        end[over] = _spans(rng, start[over], cal.p1)
        return start, end
    if kind == "excluded_prior_resolved_next":  # opened in Y-1, found after Y
        start = cal.p0 + rng.integers(0, cal.days_prev, size=size)
        return start, cal.n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=size)
    # opened in January of Y+1, before the export was taken; half already found
    start = cal.n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=size)
    end = np.full(size, _NAT, dtype="datetime64[D]")
    found = rng.random(size) < 0.5
    end[found] = _spans(rng, start[found], cal.cutoff)
    return start, end


def _case_numbers(intake: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MC-<intake year>-<sequence by intake date>: a synthetic, non-identifying key."""
    order = np.lexsort((rng.random(len(intake)), intake))
    intake_years = intake.astype("datetime64[Y]").astype(np.int64) + 1970
    numbers = np.empty(len(intake), dtype=object)
    sequence: dict[int, int] = {}
    for i in order:
        y = int(intake_years[i])
        sequence[y] = sequence.get(y, 0) + 1
        numbers[i] = f"MC-{y}-{sequence[y]:06d}"
    return numbers


def _build_cases(profile: dict[str, Any], year: int, seed: int) -> list[tuple[str, ...]]:
    """All rows of cases.csv, in their final (shuffled) order.

    First the population (:func:`_population`), then dates per kind of row, then the rows the
    export holds but the population excludes, whose attributes copy population rows.
    """
    rng = random_stream(seed, year, 1)
    rules = profile["cases"]["rule_rows"]
    cal = _Calendar.of(year)
    people = _population(profile, rng)
    intake, resolved = _population_dates(people.active, rules, cal, rng)
    excluded = [_excluded_dates(kind, rules[kind], cal, rng) for kind in _EXCLUDED]
    all_intake = np.concatenate([intake, *(start for start, _ in excluded)])
    all_resolved = np.concatenate([resolved, *(end for _, end in excluded)])
    n = len(intake)
    template = np.concatenate([np.arange(n), rng.integers(0, n, size=len(all_intake) - n)])
    all_types, all_age = people.types[template], people.age[template]
    all_race, all_state = people.race[template], people.state[template]

    # Unknown race is exported either as "U" or left empty (both mean unknown).
    unknown = np.flatnonzero(all_race == "U")
    all_race[unknown[rng.random(len(unknown)) < float(rules["unknown_race_blank_share"])]] = ""

    numbers = _case_numbers(all_intake, rng)
    if np.any((~np.isnat(all_resolved)) & (all_resolved < all_intake)):
        raise AssertionError("generated a case resolved before its intake")
    intake_text = np.datetime_as_string(all_intake, unit="D")
    resolved_text = np.where(np.isnat(all_resolved), "", np.datetime_as_string(all_resolved, unit="D"))
    return [
        (
            numbers[i],
            intake_text[i],
            resolved_text[i],
            all_types[i],
            "" if all_age[i] < 0 else str(int(all_age[i])),
            all_race[i],
            all_state[i],
        )
        for i in rng.permutation(len(all_intake))
    ]


def write(profile: dict[str, Any], year: int, seed: int, path: Path) -> None:
    write_csv(path, CASES.columns, _build_cases(profile, year, seed))
