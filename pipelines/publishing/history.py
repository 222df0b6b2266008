"""A year's history of releases, read back from ``<published>/``: the current release (the
folder the link ``<published>/<year>`` points to), the release each one replaced (its manifest's
``replaces``), and which release's public copy is the year's current one. The writer of a
release is pipelines/publishing/release.py; the index page, the CLI and the public copy's
suppression read the history from here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from pipelines.public_copy.tables import PUBLISHED, WITHHELD_COPY

RELEASES = ".releases"
PUBLIC = "public"
"""The public-use tables inside a release (docs/public-use.md)."""


def current_release(published_root: Path, year: int) -> Path | None:
    """The folder ``<published>/<year>`` points to, None before the first release."""
    link = published_root / str(year)
    if link.exists() and not link.is_symlink():
        raise RuntimeError(f"{link} is a plain folder, not a release link; move it away to publish year {year}")
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def replaced_release(published_root: Path, release: Path) -> Path | None:
    """The release that ``release`` replaced, from its manifest (None for a first release)."""
    name = json.loads((release / "manifest.json").read_text(encoding="utf-8")).get("replaces")
    return published_root / RELEASES / name if name else None


def history(published_root: Path, year: int, start: Path | None = None) -> list[Path]:
    """The year's releases, newest first: the current one (or ``start``), the one it replaced,
    and so on."""
    releases, release = [], start or current_release(published_root, year)
    while release is not None and release.is_dir() and release not in releases:
        releases.append(release)
        release = replaced_release(published_root, release)
    return releases


NO_PUBLIC_COPY = "none"
"""The ``status`` of a release made before public copies existed (its manifest has no entry)."""


def public_entry(release: Path) -> dict:
    """The manifest's ``public`` entry of a release: whether its public copy was published or
    withheld, and why. A manifest whose entry does not say (made before copies could be
    withheld): published when the release has ``public/``; none without an entry."""
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    if "public" not in manifest:
        return {"status": NO_PUBLIC_COPY}
    entry = dict(manifest["public"])
    entry.setdefault("status", PUBLISHED if (release / PUBLIC).is_dir() else WITHHELD_COPY)
    return entry


def public_copy_of(releases: Sequence[Path]) -> Path | None:
    """The release whose public copy is current among ``releases`` (newest first, a history):
    the newest that has one."""
    return next((release for release in releases if (release / PUBLIC / "report.html").is_file()), None)


def find_release(published_root: Path, year: int, name: str) -> Path:
    """A release of the year by its name (``2020-0123456789abcdef``) or its hash alone."""
    folder = published_root / RELEASES / (name if name.startswith(f"{year}-") else f"{year}-{name}")
    if not _RELEASE_NAME.match(folder.name) or not folder.is_dir():
        raise FileNotFoundError(f"no release {name} of {year} in {published_root / RELEASES}")
    return folder


_RELEASE_NAME = re.compile(r"^\d+-[0-9a-f]{16}$")
