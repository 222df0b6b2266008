"""Owner-only at rest (pipelines/core/modes.py): the process's umask, the modes of what the
product creates, and the one line about a folder others can read. A process's umask is global,
so what depends on the umask a process starts with runs in a process of its own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.core.config import ENV_PUBLISHED_UMASK, REPO_ROOT
from pipelines.core.modes import exposed, make_folders, publish_modes, published_mode, published_umask
from pipelines.core.preflight import (
    published_lock_file,
    require_writable,
    run_lock_files,
    waiting_lock,
    warehouse_lock_file,
    year_lock,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def in_a_process(code: str, umask: int, cwd: Path, **environment: str) -> str:
    """Run ``code`` in a new interpreter started with ``umask`` (no IMPACT_PUBLISHED_UMASK unless
    given); returns what it prints."""
    env = {k: v for k, v in os.environ.items() if k != ENV_PUBLISHED_UMASK} | environment
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        preexec_fn=lambda: os.umask(umask),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


OWNER_ONLY = """
import os, subprocess, sys
from pipelines.core.modes import owner_only
owner_only(); owner_only()
mask = os.umask(0); os.umask(mask)
code = "import os; print(oct(os.umask(0)))"
child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
print(oct(mask), os.environ["IMPACT_PUBLISHED_UMASK"], child.stdout.strip())
"""


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o027])
def test_owner_only_tightens_the_umask_and_remembers_the_users_for_its_children(umask: int, tmp_path: Path) -> None:
    """Once or twice, the process and the processes it starts work under 077; the user's umask
    is handed down for the releases."""
    assert in_a_process(OWNER_ONLY, umask, tmp_path).split() == ["0o77", f"{umask:03o}", "0o77"]


def test_a_published_umask_handed_down_wins_over_the_tightened_one(tmp_path: Path) -> None:
    """A process started by an owner-only one (its umask 077) still publishes with the user's."""
    out = in_a_process(OWNER_ONLY, 0o077, tmp_path, IMPACT_PUBLISHED_UMASK="022")
    assert out.split() == ["0o77", "022", "0o77"]


@pytest.mark.parametrize(
    ("umask", "folder", "file"), [("022", 0o755, 0o644), ("027", 0o750, 0o640), ("077", 0o700, 0o600)]
)
def test_published_modes_are_the_users_umask_whatever_the_process_umask(
    umask: str, folder: int, file: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_PUBLISHED_UMASK, umask)
    tree = tmp_path / "release"
    (tree / "public").mkdir(parents=True, mode=0o700)
    for path in (tree / "a.csv", tree / "public" / "b.csv"):
        path.write_text("x")
        path.chmod(0o600)
    (tree / "link").symlink_to("a.csv")

    publish_modes(tree)

    assert published_umask() == int(umask, 8)
    assert (published_mode(True), published_mode(False)) == (folder, file)
    assert [mode(p) for p in (tree, tree / "public")] == [folder, folder]
    assert [mode(p) for p in (tree / "a.csv", tree / "public" / "b.csv")] == [file, file]


def test_folders_are_created_owner_only_or_published_and_existing_ones_keep_their_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_PUBLISHED_UMASK, "022")
    given = tmp_path / "given"
    given.mkdir()
    given.chmod(0o775)

    private = make_folders(given / "warehouse" / "logs")
    shared = make_folders(given / "published" / ".releases", published=True)

    assert private == [given / "warehouse", given / "warehouse" / "logs"]
    assert shared == [given / "published", given / "published" / ".releases"]
    assert [mode(p) for p in private] == [0o700, 0o700]
    assert [mode(p) for p in shared] == [0o755, 0o755]
    assert mode(given) == 0o775 and make_folders(given) == []


def test_preflight_makes_the_warehouse_private_and_the_release_folder_and_its_locks_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_PUBLISHED_UMASK, "022")
    published, warehouse = tmp_path / "out" / "published", tmp_path / "warehouse"

    require_writable([(published, "release folder"), (warehouse, "warehouse folder")], published=published)
    with year_lock(2020, run_lock_files(2020, published, warehouse)), waiting_lock(published / ".locks" / "index.lock"):
        pass

    assert (mode(tmp_path / "out"), mode(published), mode(warehouse)) == (0o755, 0o755, 0o700)
    assert mode(published / ".locks") == 0o755
    assert mode(published_lock_file(published, 2020)) == 0o644
    assert mode(published / ".locks" / "index.lock") == 0o644
    assert mode(warehouse_lock_file(warehouse, 2020)) == 0o600


def test_a_folder_others_can_read_or_enter_gets_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "2021"
    folder.mkdir(parents=True)
    lines = {}
    for bits in (0o700, 0o750, 0o711, 0o755):
        folder.chmod(bits)
        lines[bits] = exposed(folder, "raw folder")

    assert lines[0o700] is None and exposed(tmp_path / "missing", "raw folder") is None
    assert lines[0o755] == (
        f"the raw folder {folder} is open to other users (mode 0755): what it holds is confidential; "
        f"make it the owner's alone with chmod 700 {folder}"
    )
    assert all(lines[bits] is not None and "\n" not in lines[bits] for bits in (0o750, 0o711))


INSTANCE = """
import os, dagster as dg
from dagster._core.instance.ref import InstanceRef
home = os.path.abspath(".tmp_home"); os.mkdir(home)
with dg.DagsterInstance.from_ref(InstanceRef.from_dir(home, config_dir=os.getcwd())) as instance:
    dg.materialize([dg.asset(lambda: 1, name="one")], instance=instance)
    print(len(instance.get_runs()))
"""


def test_the_projects_instance_storage_makes_any_process_that_opens_it_owner_only(tmp_path: Path) -> None:
    """The webserver and daemon of `dagster dev` open the instance from dagster.yaml without
    loading the code location: under umask 022, a process that only opens it and runs a job
    leaves every file and folder of the instance the owner's alone."""
    (tmp_path / "dagster.yaml").write_bytes((REPO_ROOT / "dagster.yaml").read_bytes())

    assert in_a_process(INSTANCE, 0o022, tmp_path).strip() == "1"

    created = [p for p in (tmp_path / ".dagster").rglob("*")]
    assert len(created) > 5 and any(p.suffix == ".db" for p in created)
    assert [p for p in [tmp_path / ".dagster", *created] if mode(p) & 0o077] == []
