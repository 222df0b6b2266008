"""``cvip_requests.csv``: law-enforcement requests per agency type with exact image and video
totals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core.contract import CVIP_REQUESTS
from pipelines.demo.common import AGENCY_TYPES, day, random_stream, write_csv


def write(profile: dict[str, Any], year: int, seed: int, path: Path) -> None:
    """Requests per agency with exact image and video sums.

    Per-request sizes are skewed (most requests small, a few huge seizures): lognormal weights,
    then a multinomial draw of the exact total over them.
    """
    rng = random_stream(seed, year, 2)
    y0 = day(f"{year}-01-01")
    days = int((day(f"{year}-12-31") - y0).astype(int)) + 1
    dates, agencies, images, videos = [], [], [], []
    for agency in AGENCY_TYPES:
        requests, n_images, n_videos = profile["cvip"]["requests_by_agency"][agency]
        if requests == 0:
            continue
        weights = rng.lognormal(0.0, 1.6, size=requests)
        video_weights = weights * rng.lognormal(0.0, 1.0, size=requests)
        images.append(rng.multinomial(n_images, weights / weights.sum()))
        videos.append(rng.multinomial(n_videos, video_weights / video_weights.sum()))
        dates.append(y0 + rng.integers(0, days, size=requests))
        agencies.extend([agency] * requests)
    if not agencies:
        write_csv(path, CVIP_REQUESTS.columns, [])
        return
    all_dates = np.concatenate(dates)
    all_images = np.concatenate(images)
    all_videos = np.concatenate(videos)
    order = np.lexsort((rng.random(len(all_dates)), all_dates))
    text = np.datetime_as_string(all_dates, unit="D")
    rows = [
        (f"CVIP-{year}-{k + 1:05d}", text[i], agencies[i], int(all_images[i]), int(all_videos[i]))
        for k, i in enumerate(order)
    ]
    write_csv(path, CVIP_REQUESTS.columns, rows)
