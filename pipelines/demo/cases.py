"""``cases.csv``: one row per case, including rows outside the year's population and every
boundary the population and status rules have to get right (see the package docstring)."""

from __future__ import annotations

import math
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


def _build_cases(profile: dict[str, Any], year: int, seed: int) -> list[tuple[str, ...]]:
    """All rows of cases.csv, in their final (shuffled) order.

    First the population: one row per counted case, with case type, status, age group, race and
    state drawn so that each published table holds exactly (status within case type, race within
    age group, state within status, each a shuffled multiset). Then dates per kind of row, then
    the rows the export holds but the population excludes.
    """
    rng = random_stream(seed, year, 1)
    cases = profile["cases"]
    rules = cases["rule_rows"]

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
        members = np.flatnonzero(groups == group)
        labels = np.repeat(np.array(RACES, dtype=object), counts)
        rng.shuffle(labels)
        race[members] = labels

    state = np.empty(n, dtype=object)
    for column, is_active in ((0, True), (1, False)):
        members = np.flatnonzero(active == is_active)
        labels = np.repeat(np.array(STATES, dtype=object), [cases["status_by_state"][s][column] for s in STATES])
        rng.shuffle(labels)
        state[members] = labels

    age = np.full(n, -1, dtype=np.int64)
    for group, bounds in AGE_GROUPS.items():
        if bounds is None:
            continue
        members = np.flatnonzero(groups == group)
        age[members] = rng.integers(bounds[0], bounds[1] + 1, size=len(members))

    # Dates. Y0..Y1 is the year; the export is taken on `cutoff` (mid-January of Y+1).
    y0, y1 = day(f"{year}-01-01"), day(f"{year}-12-31")
    p0, p1 = day(f"{year - 1}-01-01"), day(f"{year - 1}-12-31")
    n0 = day(f"{year + 1}-01-01")
    cutoff = n0 + (_EXPORT_DAYS_AFTER_YEAR_END - 1)
    days = int((y1 - y0).astype(int)) + 1
    days_prev = int((p1 - p0).astype(int)) + 1
    nat = np.datetime64("NaT", "D")

    def spans(start: np.ndarray, end: np.datetime64) -> np.ndarray:
        """Uniform day in [start, end] per row (end >= start)."""
        return start + rng.integers(0, (end - start).astype(np.int64) + 1)

    def durations(size: int) -> np.ndarray:
        """Days until recovery: most children are found within days, a few after months."""
        return np.floor(rng.lognormal(mean=math.log(4.0), sigma=1.3, size=size)).astype(np.int64)

    intake = np.empty(n, dtype="datetime64[D]")
    resolved = np.full(n, nat, dtype="datetime64[D]")

    resolved_rows = np.flatnonzero(~active)
    recoveries = rng.choice(resolved_rows, size=rules["prior_year_recoveries"], replace=False)
    in_year = np.setdiff1d(resolved_rows, recoveries)
    # Opened and resolved in Y.
    intake[in_year] = y0 + rng.integers(0, days, size=len(in_year))
    ends = intake[in_year] + durations(len(in_year))
    late = ends > y1
    ends[late] = spans(intake[in_year][late], y1)
    resolved[in_year] = ends
    # Opened before Y (mostly late in Y-1, a few in Y-2), recovered in Y: counted, Resolved.
    back = np.minimum(np.floor(rng.exponential(110.0, size=len(recoveries))).astype(np.int64), 700)
    intake[recoveries] = p1 - back
    resolved[recoveries] = y0 + np.minimum(
        np.floor(rng.exponential(45.0, size=len(recoveries))).astype(np.int64), days - 1
    )

    active_rows = np.flatnonzero(active)
    next_year = rng.choice(active_rows, size=rules["active_resolved_next_year"], replace=False)
    still_open = np.setdiff1d(active_rows, next_year)
    # Opened in Y, still open at export time: later intakes more likely (older ones got resolved).
    intake[still_open] = y1 - np.minimum(
        np.floor(rng.exponential(150.0, size=len(still_open))).astype(np.int64), days - 1
    )
    # Opened in Y, found in January of Y+1: counted, Active (status is as of Dec 31).
    intake[next_year] = y1 - np.minimum(np.floor(rng.exponential(20.0, size=len(next_year))).astype(np.int64), days - 1)
    resolved[next_year] = n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=len(next_year))
    jan2 = next_year[: rules["active_missing_dec31_found_jan2"]]
    intake[jan2] = y1
    resolved[jan2] = n0 + 1

    # Rows the export holds but the population excludes; their attributes copy population rows.
    extra_intake: list[np.ndarray] = []
    extra_resolved: list[np.ndarray] = []
    for kind in (
        "excluded_prior_still_open",
        "excluded_prior_resolved_prior",
        "excluded_prior_resolved_next",
        "excluded_next_year",
    ):
        size = rules[kind]
        if kind == "excluded_prior_still_open":  # opened up to ~8 years before Y, never resolved
            start = p1 - np.minimum(np.floor(rng.exponential(500.0, size=size)).astype(np.int64), 3000)
            end = np.full(size, nat, dtype="datetime64[D]")
        elif kind == "excluded_prior_resolved_prior":  # opened and resolved in Y-1
            start = p0 + rng.integers(0, days_prev, size=size)
            end = start + durations(size)
            over = end > p1
            end[over] = spans(start[over], p1)
        elif kind == "excluded_prior_resolved_next":  # opened in Y-1, found after Y
            start = p0 + rng.integers(0, days_prev, size=size)
            end = n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=size)
        else:  # opened in January of Y+1, before the export was taken; half already found
            start = n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=size)
            end = np.full(size, nat, dtype="datetime64[D]")
            found = rng.random(size) < 0.5
            end[found] = spans(start[found], cutoff)
        extra_intake.append(start)
        extra_resolved.append(end)
    all_intake = np.concatenate([intake, *extra_intake])
    all_resolved = np.concatenate([resolved, *extra_resolved])
    n_extra = len(all_intake) - n
    template = rng.integers(0, n, size=n_extra)
    all_types = np.concatenate([types, types[template]])
    all_age = np.concatenate([age, age[template]])
    all_race = np.concatenate([race, race[template]])
    all_state = np.concatenate([state, state[template]])

    # Unknown race is exported either as "U" or left empty (both mean unknown).
    unknown = np.flatnonzero(all_race == "U")
    blank = unknown[rng.random(len(unknown)) < float(rules["unknown_race_blank_share"])]
    all_race[blank] = ""

    # Case numbers: MC-<intake year>-<sequence by intake date>, a synthetic, non-identifying key.
    total = len(all_intake)
    order = np.lexsort((rng.random(total), all_intake))
    intake_years = all_intake.astype("datetime64[Y]").astype(np.int64) + 1970
    numbers = np.empty(total, dtype=object)
    sequence: dict[int, int] = {}
    for i in order:
        y = int(intake_years[i])
        sequence[y] = sequence.get(y, 0) + 1
        numbers[i] = f"MC-{y}-{sequence[y]:06d}"

    if np.any((~np.isnat(all_resolved)) & (all_resolved < all_intake)):
        raise AssertionError("generated a case resolved before its intake")

    intake_text = np.datetime_as_string(all_intake, unit="D")
    resolved_text = np.where(np.isnat(all_resolved), "", np.datetime_as_string(all_resolved, unit="D"))
    rows = []
    for i in rng.permutation(total):
        rows.append(
            (
                numbers[i],
                intake_text[i],
                resolved_text[i],
                all_types[i],
                "" if all_age[i] < 0 else str(int(all_age[i])),
                all_race[i],
                all_state[i],
            )
        )
    return rows


def write(profile: dict[str, Any], year: int, seed: int, path: Path) -> None:
    write_csv(path, CASES.columns, _build_cases(profile, year, seed))
