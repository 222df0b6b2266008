"""``cvip_offender_relationships.csv``: known offender relationships of the children in actively
traded imagery, one row per (child, relationship)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core.contract import CVIP_OFFENDER_RELATIONSHIPS
from pipelines.demo.common import RELATIONSHIPS, random_stream, write_csv


def write(profile: dict[str, Any], year: int, seed: int, path: Path) -> None:
    """Exact counts per relationship over exactly ``distinct_victims`` children.

    Every child gets one relationship; the surplus relationships go to other children that do
    not have that relationship yet, so (victim_id, relationship) stays unique.
    """
    rng = random_stream(seed, year, 3)
    rel = profile["cvip"]["relationships"]
    victims = int(rel["distinct_victims"])
    labels = np.repeat(np.array(RELATIONSHIPS, dtype=object), [rel["counts"][r] for r in RELATIONSHIPS])
    rng.shuffle(labels)
    held: list[set[str]] = [{labels[v]} for v in range(victims)]
    cycle = rng.permutation(victims)
    position = 0
    for label in labels[victims:]:
        for _attempt in range(victims):
            v = int(cycle[position % victims])
            position += 1
            if label not in held[v]:
                held[v].add(label)
                break
        else:  # pragma: no cover - excluded by profile validation (count <= victims)
            raise ValueError(f"cannot give {label} to a child without it")
    ids = rng.choice(9_000_000, size=victims, replace=False) + 1_000_000
    rank = {r: k for k, r in enumerate(RELATIONSHIPS)}
    rows = sorted(
        ((f"CV{int(ids[v]):07d}", r) for v in range(victims) for r in held[v]), key=lambda row: (row[0], rank[row[1]])
    )
    write_csv(path, CVIP_OFFENDER_RELATIONSHIPS.columns, rows)
