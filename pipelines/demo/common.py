"""What every export of the demo generator shares: the category codes, deterministic randomness,
exact apportioning of totals, and files that appear whole or not at all."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

CASE_TYPES = ("ERU", "FA", "LIOM", "MYA", "NFA")
RACES = ("AI", "AS", "MR", "BL", "HI", "PI", "WH", "U")
AGE_GROUPS: dict[str, tuple[int, int] | None] = {
    "unknown": None,
    "0-2": (0, 2),
    "3-5": (3, 5),
    "6-8": (6, 8),
    "9-11": (9, 11),
    "12-14": (12, 14),
    "15-17": (15, 17),
    "18-20": (18, 20),
}
STATES = (
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "PR",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "INTL",
)
AGENCY_TYPES = ("FEDERAL", "STATE_LOCAL_ICAC", "MILITARY", "INTERNATIONAL")
RELATIONSHIPS = (
    "PARENT_GUARDIAN",
    "OTHER_RELATIVE",
    "NEIGHBOR_FAMILY_FRIEND",
    "BABYSITTER_MENTOR_COACH",
    "GUARDIANS_PARTNER",
    "ONLINE_ENTICEMENT",
    "SELF_PRODUCTION",
    "CHILD_SEX_TRAFFICKER",
    "UNKNOWN_TO_CHILD",
)
INCIDENT_TYPES = (
    "CSAM",
    "ONLINE_ENTICEMENT",
    "CHILD_SEX_TRAFFICKING",
    "CHILD_SEXUAL_MOLESTATION",
    "MISLEADING_WORDS_OR_IMAGES",
    "UNSOLICITED_OBSCENE_MATERIAL",
    "MISLEADING_DOMAIN_NAME",
    "CHILD_SEX_TOURISM",
)


def country_codes() -> set[str]:
    import pycountry

    return {c.alpha_2 for c in pycountry.countries}


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
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp creates 0600; use the usual mode
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
