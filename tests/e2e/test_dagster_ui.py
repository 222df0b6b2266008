"""The code location as operators meet it: `dagster dev` loading it from workspace.yaml and
serving its UI and GraphQL on loopback, what `dagster definitions validate` checks, and assets
that explain themselves (description, owner, kinds, group, column schema, checks attached).

Then a project folder as `make demo` leaves one and `make ui` shows it: `impact run` started in a
working folder with the repository's dagster.yaml (.dagster/, no DAGSTER_HOME), one set of runs
for every test of it: what other users can read afterwards, what its instance records per year
published or refused, and what `dagster dev` started there shows."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner, Result
from dagster._core.instance.ref import InstanceRef

from pipelines.cli import main
from pipelines.core.config import ENV_PUBLISHED_UMASK
from pipelines.definitions import build_definitions
from pipelines.runner import YearOutcome, default_instance, run_year
from tests.conftest import folders_in
from tests.exports import YearExports, resolved_cases

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OTHER_INSTANCE_OR_FOLDERS = ("DAGSTER_HOME", "IMPACT_RAW_DIR", "IMPACT_PUBLISHED_DIR", "IMPACT_WAREHOUSE_DIR")
"""What would point `impact run` or `dagster dev` away from the working folder's instance and folders."""


def test_the_definitions_load_and_their_partition_mappings_are_valid() -> None:
    """What `dagster definitions validate` checks beyond loading the code location (which
    `dagster dev` does below): the definitions resolve and every partition mapping is valid."""
    dg.Definitions.validate_loadable(build_definitions())
    build_definitions().resolve_asset_graph().validate_partitions()


def test_every_asset_has_description_owner_kinds_group_and_checks_are_attached() -> None:
    graph = build_definitions().resolve_asset_graph()
    groups = set()
    for key in graph.get_all_asset_keys():
        spec = graph.get(key)
        assert spec.description, key
        assert spec.owners, key
        assert spec.kinds, key
        groups.add(spec.group_name)
    assert groups == {"raw", "staging", "published", "release"}
    checked = {key.asset_key.to_user_string() for key in graph.asset_check_keys}
    for name in ("raw_cases", "raw_cybertipline_reports", "missing_children_by_state", "headline_metrics"):
        assert name in checked


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_workspace_names_the_code_location_impact_pipeline() -> None:
    import yaml

    workspace = yaml.safe_load((REPO / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["location_name"] == "impact_pipeline"


def test_descriptions_render_and_stand_alone() -> None:
    """`<year>` would be read as an HTML tag by the UI's markdown; no description cites a
    document outside the repository."""
    graph = build_definitions().resolve_asset_graph()
    texts = [graph.get(key).description for key in graph.get_all_asset_keys()]
    texts += [graph.get_check_spec(key).description for key in graph.asset_check_keys]
    for text in texts:
        assert "<" not in text and "SPEC" not in text and "../" not in text, text


def test_checks_are_partitioned_and_tables_carry_code_version_and_references() -> None:
    from pipelines.defs.partitions import yearly_partitions

    partitions = yearly_partitions(2019)
    from pipelines.tables import specs

    graph = build_definitions().resolve_asset_graph()
    for key in graph.asset_check_keys:
        assert graph.get_check_spec(key).partitions_def == partitions, key
    for table in specs():
        node = graph.get(dg.AssetKey(table))
        assert node.code_version
        references = node.metadata["dagster/code_references"].code_references
        files = {Path(r.file_path).relative_to(REPO).as_posix() for r in references}
        assert files == {f"sql/published/{table}.sql", f"pipelines/tables/{table}.py"}
        sql = (REPO / "sql" / "published" / f"{table}.sql").read_text(encoding="utf-8").strip()
        assert node.metadata["sql"].value == f"```sql\n{sql}\n```"  # readable in the browser


def test_runs_are_recorded_in_dagster_home_when_it_is_set(tmp_path: Path, monkeypatch) -> None:
    """`impact run` records its runs in DAGSTER_HOME's instance when DAGSTER_HOME is set."""
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with default_instance() as instance:
        assert Path(instance.root_directory) == tmp_path


# --------------------------------------------------------------------------------------------
# A project folder as `make demo` leaves one, and what `make ui` shows of it


@dataclass
class ProjectFolder:
    """A working folder with the repository's dagster.yaml and no DAGSTER_HOME, where `impact run`
    published 2020 and refused 2022 at its exports and 2021 at a table (tests below)."""

    root: Path
    published: Result
    """`impact run --year 2020`, its raw folder readable by others and the user's umask 022."""
    refused_at_its_exports: YearOutcome
    """2022: a broken cases.csv."""
    refused_at_a_table: YearOutcome
    """2021: its cases outside the band around 2020's release (5 after 2020's 2)."""

    @contextmanager
    def instance_as_dagster_dev_opens_it(self) -> Iterator[dg.DagsterInstance]:
        """`dagster dev` started in the folder without DAGSTER_HOME opens a temporary folder in it
        with the folder's dagster.yaml as its configuration (which keeps everything in .dagster/,
        under the working folder)."""
        with chdir(self.root), tempfile.TemporaryDirectory(prefix=".tmp_dagster_home_", dir=self.root) as home:
            with dg.DagsterInstance.from_ref(InstanceRef.from_dir(home, config_dir=str(self.root))) as instance:
                yield instance
            assert not list(Path(home).rglob("*.db"))  # nothing of the runs in dagster dev's temporary folder


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectFolder:
    """The three years of :class:`ProjectFolder`, each run as `impact run` runs it (run_year without
    an instance: the project's), 2020 through the command itself; one set of runs for every test
    of the folder."""
    root = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for variable in OTHER_INSTANCE_OR_FOLDERS:
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv(ENV_PUBLISHED_UMASK, "022")
        monkeypatch.chdir(root)
        shutil.copy(REPO / "dagster.yaml", root / "dagster.yaml")
        raw_year = YearExports.small(2020).write(root / "raw")
        raw_year.chmod(0o755)  # an export job's folder, readable by others
        published = CliRunner().invoke(main, ["run", "--year", "2020"], catch_exceptions=False)

        outside_the_band = YearExports.small(2021)
        outside_the_band.cases += resolved_cases("B", 3, 2021)  # 5 cases after 2020's 2
        broken = YearExports.small(2022)
        broken.cases[0]["case_type"] = "XX"
        for exports in (outside_the_band, broken):
            exports.write(root / "raw")
        folders = folders_in(root)
        return ProjectFolder(root, published, run_year(2022, folders), run_year(2021, folders))


def walk(root: Path) -> list[tuple[Path, int]]:
    """Every folder and file under ``root`` (and ``root``), with its mode; links left out."""
    paths = [root, *root.rglob("*")]
    return [(p, stat.S_IMODE(p.lstat().st_mode)) for p in paths if not p.is_symlink()]


def test_a_run_leaves_the_warehouse_and_the_instance_private_and_the_release_published(project: ProjectFolder) -> None:
    """Owner-only at rest: afterwards nothing under the warehouse folder or the instance can be
    read by other users, while the release has the modes of the user's umask; a raw folder others
    can read gets one line on stderr and one warning in the run's log. The functions that create
    the folders and files, and the umask a process starts with: tests/core/test_modes.py."""
    result, root = project.published, project.root
    assert result.exit_code == 0, result.output
    raw_year = root / "raw" / "2020"
    warning = (
        f"impact run: warning: the raw folder {raw_year} is open to other users (mode 0755): what it "
        f"holds is confidential; make it the owner's alone with chmod 700 {raw_year}"
    )
    assert result.stderr.splitlines() == [warning]
    private = walk(root / "warehouse") + walk(root / ".dagster")
    assert len(private) > 40 and {p.name for p, _ in private} >= {"2020.duckdb", "runs.db", "data_docs", "logs"}
    assert [(p, oct(m)) for p, m in private if m & 0o077] == []
    published = walk(root / "published")
    assert len(published) > 40
    assert [(p, oct(m)) for p, m in published if m != (0o755 if p.is_dir() else 0o644)] == []
    logs = list((root / "warehouse" / "logs").glob("2020-*.log"))
    assert len(logs) == 2  # the accepting run's and the publishing run's
    for log in logs:
        assert warning.removeprefix("impact run: warning: ") in log.read_text(encoding="utf-8")


def test_impact_run_records_in_the_instance_dagster_dev_opens_in_the_same_folder(project: ProjectFolder) -> None:
    """Runs started from the CLI show in the UI: the run, its checks per year, the table's column
    descriptions and published file paths. Without DAGSTER_HOME, `impact run` and `dagster dev
    -w workspace.yaml` started in the same working folder share its instance (dagster.yaml:
    .dagster/), so the UI shows what the CLI published."""
    assert (project.root / ".dagster" / "history" / "runs.db").is_file()
    with project.instance_as_dagster_dev_opens_it() as instance:
        runs = [(run.job_name, run.tags["dagster/partition"]) for run in instance.get_runs()]
        assert [run for run in runs if run[1] == "2020"] == [("yearly_release", "2020"), ("accept_exports", "2020")]
        check = dg.AssetCheckKey(dg.AssetKey("missing_children_by_state"), "second_computation")
        evaluations = instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
        assert [record.partition for record in evaluations] == ["2021", "2020"]  # per year, the latest first
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(dg.AssetKey("missing_children_by_state"), asset_partitions=["2020"]), limit=5
        ).records
        metadata = record.asset_materialization.metadata
        columns = {c.name: c.description for c in metadata["dagster/column_schema"].schema.columns}
        assert columns["active"] == "Cases of the year still open on December 31 of the year."
        assert not [name for name in metadata if name.startswith("published")]  # the release names the files
        release = instance.get_latest_materialization_event(dg.AssetKey("release")).asset_materialization
        folder = (project.root / "published" / "2020").resolve()
        assert folder.parent.name == ".releases"
        assert release.partition == "2020"
        assert release.metadata["release_id"].value == folder.name
        assert release.metadata["outcome"].value == "new"
        assert release.metadata["release"].path == str(folder)
        assert str(folder / "missing_children_by_state.csv") in release.metadata["published_files"].value


def test_what_the_instance_shows_per_year_published_refused_at_its_exports_or_at_a_table(
    project: ProjectFolder,
) -> None:
    """What the UI reads, per year, computed as the UI computes it (the runs, the asset status
    cache behind an asset's partitions, the check state), in the project's instance: 2020
    published; 2022 refused at its exports (a broken cases.csv); 2021 refused at a table check
    (its cases outside the band around 2020's release). Red is where someone must act: 2022's
    accepting run and raw_cases for 2022, with no table planned; 2021's publishing run,
    headline_metrics' band check, and what that run planned after it (the public copy, the
    release). Every check and table of 2020 stays passed and materialized."""
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionResolvedStatus as Status
    from dagster._core.storage.asset_check_state import AssetCheckState, bulk_update_asset_check_state
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    from pipelines.defs.gate import RELEASE_TAG
    from pipelines.defs.partitions import yearly_partitions

    yearly = yearly_partitions(2019)
    assert project.refused_at_its_exports.failures == [
        'cases.csv: column case_type: rule "one of ERU, FA, LIOM, MYA, NFA": 1 bad row, e.g. row 1'
    ]
    assert project.refused_at_a_table.failures[0].startswith(
        "check headline_metrics:within_previous_year_band failed: cases.csv: 5 in 2021, 2 in the 2020 release"
    )
    graph = build_definitions().resolve_asset_graph()
    with project.instance_as_dagster_dev_opens_it() as instance:
        runs = {(run.job_name, run.tags["dagster/partition"]): run for run in instance.get_runs()}
        assert {key: run.status.value for key, run in runs.items()} == {
            ("accept_exports", "2020"): "SUCCESS",
            ("yearly_release", "2020"): "SUCCESS",
            ("accept_exports", "2022"): "FAILURE",
            ("accept_exports", "2021"): "SUCCESS",
            ("yearly_release", "2021"): "FAILURE",
        }
        folder = (project.root / "published" / "2020").resolve()
        assert runs["yearly_release", "2020"].tags[RELEASE_TAG] == f"{folder.name} (new)"
        assert not (project.root / "published" / "2021").exists() and not (project.root / "published" / "2022").exists()

        def partitions(asset: str) -> tuple[list[str], list[str]]:
            status = get_and_update_asset_status_cache_value(instance, dg.AssetKey(asset), yearly)
            return (
                sorted(status.deserialize_materialized_partition_subsets(yearly).get_partition_keys()),
                sorted(status.deserialize_failed_partition_subsets(yearly).get_partition_keys()),
            )

        assert partitions("raw_cases") == (["2020", "2021"], ["2022"])
        assert partitions("raw_cybertipline_reports") == (["2020", "2021", "2022"], [])
        assert partitions("accepted_exports") == (["2020", "2021"], [])
        assert partitions("missing_children_by_state") == (["2020", "2021"], [])  # 2022: never planned
        assert partitions("headline_metrics") == (["2020"], ["2021"])
        assert partitions("public_use_tables") == (["2020"], ["2021"])
        assert partitions("release") == (["2020"], ["2021"])
        failed = {key.to_user_string() for key in graph.get_all_asset_keys() if partitions(key.to_user_string())[1]}
        assert failed == {"raw_cases", "headline_metrics", "public_use_tables", "release"}

        checks = sorted(graph.asset_check_keys)
        states = bulk_update_asset_check_state(
            instance, [(key, yearly) for key in checks], {key: AssetCheckState.empty() for key in checks}
        )
        by_status: dict[str, dict[str, list[str]]] = {}
        for key, state in states.items():
            for status, subset in state.subsets.items():
                if not subset.is_empty:
                    by_status.setdefault(status.value, {})[key.to_user_string()] = sorted(
                        subset.subset_value.get_partition_keys()
                    )
        assert by_status[Status.FAILED.value] == {
            "raw_cases:export_contract": ["2022"],
            "headline_metrics:within_previous_year_band": ["2021"],
        }
        assert by_status[Status.EXECUTION_FAILED.value] == {"public_use_tables:disclosure_audit": ["2021"]}
        assert all("2020" in years for years in by_status[Status.SUCCEEDED.value].values())
        assert len(by_status[Status.SUCCEEDED.value]) == len(checks)
        assert by_status[Status.SUCCEEDED.value]["missing_children_by_state:second_computation"] == ["2020", "2021"]
        release = instance.get_latest_materialization_event(dg.AssetKey("release")).asset_materialization
        assert (release.partition, release.metadata["release_id"].value) == ("2020", folder.name)


def test_dagster_dev_serves_the_ui_and_graphql_on_loopback(project: ProjectFolder) -> None:
    """`dagster dev -w workspace.yaml` started in the project folder (`make ui`) loads the code
    location, and shows the runs `impact run` recorded there (executed in its own process
    before) as runs of the location's jobs: in each job's Runs tab and, with their repository
    origin, on Overview's timeline (which places a run by it)."""
    with project.instance_as_dagster_dev_opens_it() as instance:
        recorded = [(run.job_name, run.run_id) for run in instance.get_runs()]  # the latest first
    assert len(recorded) == 5
    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=project.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if k not in OTHER_INSTANCE_OR_FOLDERS},
    )
    location = '{repositoryName: "__repository__", repositoryLocationName: "impact_pipeline"'
    tabs = " ".join(
        f'{name}: pipelineOrError(params: {location}, pipelineName: "{job}"}}) '
        "{ ... on Pipeline { runs { runId } } }"
        for name, job in (("accepting", "accept_exports"), ("publishing", "yearly_release"))
    )
    query = {
        "query": "{ assetNodes { assetKey { path } groupName } "
        "workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
        "locationOrLoadError { __typename ... on PythonError { message } } } } } "
        "runsOrError { ... on Runs { results { runId repositoryOrigin { repositoryName repositoryLocationName } } } } "
        + tabs
        + " }"
    }
    try:
        deadline, answer = time.monotonic() + 120, None
        while time.monotonic() < deadline and answer is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=json.dumps(query).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    answer = json.load(response)
            except (OSError, ValueError):
                assert process.poll() is None, "dagster dev exited"
                time.sleep(1)
        assert answer is not None, "dagster dev did not answer on loopback within 120 s"
        # The code location of workspace.yaml loaded without error (what `dagster definitions
        # validate` reports first).
        [entry] = answer["data"]["workspaceOrError"]["locationEntries"]
        assert entry["name"] == "impact_pipeline" and entry["loadStatus"] == "LOADED", entry
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
        nodes = answer["data"]["assetNodes"]
        names = {"/".join(n["assetKey"]["path"]) for n in nodes}
        assert {"raw_cases", "missing_children_by_case_type", "release"} <= names
        data = answer["data"]
        for tab, job in (("accepting", "accept_exports"), ("publishing", "yearly_release")):
            assert [r["runId"] for r in data[tab]["runs"]] == [r for j, r in recorded if j == job], tab
        origins = {r["runId"]: r["repositoryOrigin"] for r in data["runsOrError"]["results"]}
        expected = {"repositoryName": "__repository__", "repositoryLocationName": "impact_pipeline"}
        assert origins == {run_id: expected for _, run_id in recorded}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
