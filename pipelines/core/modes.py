"""Who may read what the product writes: the owner alone, except the releases.

The warehouse (a record-level copy of every export, DuckDB's spill files, the Great Expectations
Data Docs, which may show raw values, run logs, alerts, locks) and the Dagster instance (the
event log, compute logs, run records) are confidential. They are written by many hands: DuckDB,
Great Expectations, SQLite, Dagster's webserver, daemon and run workers, and the product's own
code. None of those libraries takes a file mode; all of them create files under the process's
umask. So every process of the product works under an owner-only umask (``owner_only``: the
user's umask with every group and other bit added), called by the code location when it loads
(pipelines/definitions.py: ``impact``, code servers, run workers) and by the Dagster instance's
storage (pipelines/defs/instance.py, named by dagster.yaml: the webserver and daemon of
``dagster dev``, which never load the code location). Files are 0600 and folders 0700 whatever
the user's umask.

The releases are for everyone the user's umask lets read them: their one writer gives every file
and folder it creates under the release folder the mode that umask gives (``published_mode``),
explicitly. The user's umask is the one the first process of the product started with, handed to
the processes it starts in ``IMPACT_PUBLISHED_UMASK`` (which a user may also set).

A raw or warehouse folder the product is given, and did not create, keeps its mode: the user
chose it. When others can read or enter it, the run says so in one line (``exposed``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pipelines.core.config import ENV_PUBLISHED_UMASK

PRIVATE = 0o077
"""The bits an owner-only umask masks: everything of the group and the others."""


def _current_umask() -> int:
    mask = os.umask(PRIVATE)
    os.umask(mask)
    return mask


def published_umask() -> int:
    """The umask whose modes published files and folders get: ``IMPACT_PUBLISHED_UMASK`` (octal),
    which ``owner_only`` sets to the umask the product started with; the process's own umask
    when neither happened."""
    value = os.environ.get(ENV_PUBLISHED_UMASK)
    return int(value, 8) & 0o777 if value else _current_umask()


def owner_only() -> None:
    """Make every file and folder this process (and the processes it starts) creates from now on
    the owner's alone, remembering the user's umask for the releases first. Idempotent."""
    mask = _current_umask()
    os.environ.setdefault(ENV_PUBLISHED_UMASK, f"{mask:03o}")
    os.umask(mask | PRIVATE)


def published_mode(directory: bool) -> int:
    """The mode the user's umask gives a new folder (``directory``) or file."""
    return (0o777 if directory else 0o666) & ~published_umask()


def publish_modes(root: Path) -> None:
    """Give ``root`` and everything under it (not following links) the modes of published
    folders and files."""
    for folder, _folders, files in os.walk(root):  # links to folders are not followed
        os.chmod(folder, published_mode(True))
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, published_mode(False))


def make_folders(folder: Path, published: bool = False) -> list[Path]:
    """Create ``folder`` and its missing parents, owner-only, or with the modes of published
    folders when ``published``; returns the folders created, outermost first."""
    folder = Path(folder).absolute()
    created = []
    for path in [p for p in (folder, *folder.parents) if not p.exists()][::-1]:
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # created meanwhile by another process: not ours
            continue
        os.chmod(path, published_mode(True) if published else 0o700)
        created.append(path)
    return created


def exposed(folder: Path, what: str) -> str | None:
    """One line when users other than the owner can list or enter ``folder`` (group or other
    read or execute permission), None otherwise or when it does not exist."""
    try:
        mode = stat.S_IMODE(Path(folder).stat().st_mode)
    except OSError:
        return None
    if not mode & 0o055:
        return None
    return (
        f"the {what} {Path(folder).absolute()} is open to other users (mode {mode:04o}): what it holds is "
        f"confidential; make it the owner's alone with chmod 700 {Path(folder).absolute()}"
    )
