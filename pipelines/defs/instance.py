"""The project's Dagster instance storage (dagster.yaml): Dagster's SQLite storage, opened in a
process that creates owner-only files.

The webserver and the daemon of ``dagster dev`` never load the code location, yet they create
files in the instance: the run records and each run's event log, written as a run is launched.
The storage is the first part of the instance Dagster builds in every process that opens it
(``dagster dev`` and its webserver, daemon and run workers, ``dagster-daemon run``, ``impact
run``), so building it first makes the process owner-only (pipelines/core/modes.py): every file
of the instance is then the owner's alone, whatever the umask ``dagster dev`` was started with.
"""

from __future__ import annotations

from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

from pipelines.core.modes import owner_only


class OwnerOnlySqliteStorage(DagsterSqliteStorage):
    """``storage: sqlite`` of dagster.yaml, in an owner-only process."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        owner_only()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> OwnerOnlySqliteStorage:
        owner_only()  # before ``from_local`` creates the base folder
        return cls.from_local(inst_data=inst_data, **config_value)
