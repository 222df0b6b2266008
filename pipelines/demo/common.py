"""What every export of the demo generator shares: the category codes (from ``sql/seeds/`` and
pycountry, read as the product reads them), deterministic randomness, exact apportioning of
totals, and files that appear whole or not at all."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core.seeds import countries, read_seed, us_state_rows


def seed_codes(name: str) -> tuple[str, ...]:
    """The codes of ``sql/seeds/<name>.csv`` in published order, read by the product's one seed
    reader: the generator writes exactly the codes the pipeline accepts, and a profile's lists of
    counts by position (races) follow the seed's order."""
    return tuple(row["code"] for row in read_seed(name))


def seed_code(name: str, code: str) -> str:
    """``code``, which the generator writes with a meaning of its own (e.g. PUBLIC reports have no
    ESP name); ``ValueError`` when ``sql/seeds/<name>.csv`` does not have it."""
    if code not in seed_codes(name):
        raise ValueError(f"sql/seeds/{name}.csv has no code {code!r}, which the demo generator writes")
    return code


def _age_group_key(row: dict[str, str]) -> str:
    """The profile's key of an age group: ``<min>-<max>`` of the seed, ``unknown`` without ages."""
    return f"{row['min_age']}-{row['max_age']}" if row["min_age"] else "unknown"


CASE_TYPES = seed_codes("case_types")
RACES = seed_codes("races")
AGENCY_TYPES = seed_codes("agency_types")
RELATIONSHIPS = seed_codes("relationships")
INCIDENT_TYPES = seed_codes("incident_types")
FILE_TYPES = seed_codes("file_types")
AGE_GROUPS: dict[str, tuple[int, int] | None] = {
    _age_group_key(row): (int(row["min_age"]), int(row["max_age"])) if row["min_age"] else None
    for row in read_seed("age_groups")
}
"""Profile key -> (youngest, oldest) age of the group, None for the unknown ages."""
STATES = tuple(code for code, _ in us_state_rows())
"""The states of the product (pycountry's US subdivisions, then INTL), in its published order."""
COUNTRIES = frozenset(countries()["code"].to_list())
"""The country codes the product publishes: ISO 3166-1 from pycountry, plus XK (Kosovo)."""


def check_codes(got: Iterable[str], expected: Sequence[str], source: str) -> str | None:
    """What is wrong when the codes ``got`` (keys of a profile section or of a generator table)
    are not exactly ``expected``, the codes of ``source``; None when they are."""
    got = list(got)
    unknown = [code for code in got if code not in expected]
    missing = [code for code in expected if code not in got]
    problems = []
    if unknown:
        problems.append(f"codes {unknown} that {source} does not have")
    if missing:
        problems.append(f"no entry for the codes {missing} of {source}")
    return " and ".join(problems) or None


@contextmanager
def atomic_target(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it into place only if the block succeeds.

    The temporary file is in the same folder, so ``os.replace`` is an atomic rename: readers see
    the old file or the new one, never a partial one.
    """
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        # mkstemp creates it 0600, the owner's alone, as exports are (pipelines/core/modes.py)
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8, header, comma, LF, RFC 4180 quoting (only where needed, quotes doubled)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)


def random_stream(seed: int, year: int, stream: int) -> np.random.Generator:
    """One independent, reproducible random stream per (seed, year, file)."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(year), stream])


def apportion(weights: Sequence[int], total: int, min_one: bool = True) -> list[int]:
    """Split ``total`` in proportion to integer ``weights`` by largest remainders.

    The result sums to exactly ``total``; ``apportion(c, sum(c)) == c``. With ``min_one``, each
    positive weight gets at least 1 whenever ``total`` is at least the number of positive
    weights (so a category that exists at full size still exists in a scaled-down export), the
    extra units being taken from the categories that have the most above their exact share.
    Integer arithmetic only: the result does not depend on floating-point rounding.
    """
    weights = [int(w) for w in weights]
    if any(w < 0 for w in weights) or total < 0:
        raise ValueError("weights and total must be >= 0")
    whole = sum(weights)
    if whole == 0:
        if total:
            raise ValueError("cannot apportion a positive total over zero weights")
        return [0] * len(weights)
    base = [w * total // whole for w in weights]
    remainder = [w * total % whole for w in weights]
    positive = [i for i, w in enumerate(weights) if w > 0]
    if min_one and total >= len(positive):
        for i in positive:
            base[i] = max(base[i], 1)
    deficit = total - sum(base)
    if deficit > 0:
        order = sorted(positive, key=lambda i: (-remainder[i], i))
        for i in order[:deficit]:
            base[i] += 1
    while deficit < 0:
        # Take back from the categories whose count most exceeds its exact share w*total/whole.
        # (Some count is > 1 here: all counts at 1 would sum to len(positive) <= total.)
        candidates = [i for i in positive if base[i] > 1]
        candidates.sort(key=lambda i: (-(base[i] * whole - weights[i] * total), i))
        for i in candidates[:-deficit]:
            base[i] -= 1
            deficit += 1
    return base


def day(value: str) -> np.datetime64:
    return np.datetime64(value, "D")
