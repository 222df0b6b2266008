"""The code location as operators meet it: `dagster dev` loading it from workspace.yaml and
serving its UI and GraphQL on loopback, what `dagster definitions validate` checks, and assets
that explain themselves (description, owner, kinds, group, column schema, checks attached)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
from click.testing import CliRunner
from dagster._core.instance.ref import InstanceRef

from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.runner import default_instance
from tests.exports import YearExports

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


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


def test_dagster_dev_serves_the_ui_and_graphql_on_loopback(tmp_path: Path) -> None:
    """`dagster dev` loads the code location, and shows the runs of `impact run` (executed in
    its own process before) as runs of the location's jobs: in each job's Runs tab and, with
    their repository origin, on Overview's timeline (which places a run by it)."""
    from pipelines.runner import run_year
    from tests.conftest import folders_in

    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    YearExports.small(2020).write(tmp_path / "raw")
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path))) as instance:
        assert run_year(2020, folders_in(tmp_path), instance).success
        cli_runs = {run.job_name: run.run_id for run in instance.get_runs()}
    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
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
        assert [r["runId"] for r in data["accepting"]["runs"]] == [cli_runs["accept_exports"]]
        assert [r["runId"] for r in data["publishing"]["runs"]] == [cli_runs["yearly_release"]]
        origins = {r["runId"]: r["repositoryOrigin"] for r in data["runsOrError"]["results"]}
        expected = {"repositoryName": "__repository__", "repositoryLocationName": "impact_pipeline"}
        assert origins == {run_id: expected for run_id in cli_runs.values()}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


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


def test_impact_run_records_in_the_instance_dagster_dev_opens_in_the_same_folder(tmp_path: Path, monkeypatch) -> None:
    """Runs started from the CLI show in the UI: the run, its checks per year, the table's column
    descriptions and published file paths. Without DAGSTER_HOME, `impact run` and `dagster dev
    -w workspace.yaml` started in the same working folder share its instance (dagster.yaml:
    .dagster/), so the UI shows what the CLI published. `dagster dev` opens it from a temporary
    folder with the working folder's dagster.yaml as its configuration; so does this test."""
    monkeypatch.delenv("DAGSTER_HOME")
    for variable in ("IMPACT_RAW_DIR", "IMPACT_PUBLISHED_DIR", "IMPACT_WAREHOUSE_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    YearExports.small(2020).write(tmp_path / "raw")

    result = CliRunner().invoke(main, ["run", "--year", "2020"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".dagster" / "history" / "runs.db").is_file()

    dev_home = tmp_path / ".tmp_dagster_home_dev"
    dev_home.mkdir()
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dev_home), config_dir=str(tmp_path))) as instance:
        runs = instance.get_runs()
        assert [(run.job_name, run.tags["dagster/partition"]) for run in runs] == [
            ("yearly_release", "2020"),
            ("accept_exports", "2020"),
        ]
        record = instance.get_latest_asset_check_evaluation_record(
            dg.AssetCheckKey(dg.AssetKey("missing_children_by_state"), "second_computation")
        )
        assert record.event.dagster_event.event_specific_data.partition == "2020"
        materialization = instance.get_latest_materialization_event(dg.AssetKey("missing_children_by_state"))
        metadata = materialization.asset_materialization.metadata
        columns = {c.name: c.description for c in metadata["dagster/column_schema"].schema.columns}
        assert columns["active"] == "Cases of the year still open on December 31 of the year."
        assert not [name for name in metadata if name.startswith("published")]  # the release names the files
        release = instance.get_latest_materialization_event(dg.AssetKey("release")).asset_materialization
        folder = (tmp_path / "published" / "2020").resolve()
        assert folder.parent.name == ".releases"
        assert release.partition == "2020"
        assert release.metadata["release_id"].value == folder.name
        assert release.metadata["outcome"].value == "new"
        assert release.metadata["release"].path == str(folder)
        assert str(folder / "missing_children_by_state.csv") in release.metadata["published_files"].value
    assert not list(dev_home.rglob("*.db"))  # nothing of the run in dagster dev's temporary folder


def test_what_the_instance_shows_per_year_published_refused_at_its_exports_or_at_a_table(tmp_path: Path) -> None:
    """What the UI reads, per year, computed as the UI computes it (the runs, the asset status
    cache behind an asset's partitions, the check state), in one persistent instance: 2020
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
    from pipelines.runner import run_year
    from tests.conftest import folders_in
    from tests.exports import YearExports, resolved_cases

    folders = folders_in(tmp_path)
    YearExports.small(2020).write(tmp_path / "raw")
    outside_the_band = YearExports.small(2021)
    outside_the_band.cases += resolved_cases("B", 3, 2021)  # 5 cases after 2020's 2
    outside_the_band.write(tmp_path / "raw")
    broken = YearExports.small(2022)
    broken.cases[0]["case_type"] = "XX"
    broken.write(tmp_path / "raw")
    (tmp_path / "dagster_home").mkdir()
    graph = build_definitions().resolve_asset_graph()
    with dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home")) as instance:
        assert run_year(2020, folders, instance=instance).success
        refused = run_year(2022, folders, instance=instance)
        assert refused.failures == [
            'cases.csv: column case_type: rule "one of ERU, FA, LIOM, MYA, NFA": 1 bad row, e.g. row 1'
        ]
        at_a_table = run_year(2021, folders, instance=instance)
        assert at_a_table.failures[0].startswith(
            "check headline_metrics:within_previous_year_band failed: cases.csv: 5 in 2021, 2 in the 2020 release"
        )

        runs = {(run.job_name, run.tags["dagster/partition"]): run for run in instance.get_runs()}
        assert {key: run.status.value for key, run in runs.items()} == {
            ("accept_exports", "2020"): "SUCCESS",
            ("yearly_release", "2020"): "SUCCESS",
            ("accept_exports", "2022"): "FAILURE",
            ("accept_exports", "2021"): "SUCCESS",
            ("yearly_release", "2021"): "FAILURE",
        }
        folder = (tmp_path / "published" / "2020").resolve()
        assert runs["yearly_release", "2020"].tags[RELEASE_TAG] == f"{folder.name} (new)"
        assert not (tmp_path / "published" / "2021").exists() and not (tmp_path / "published" / "2022").exists()

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
