"""The code location as operators meet it: `dagster definitions validate`, `dagster dev` serving
its UI and GraphQL on loopback, and assets that explain themselves (description, owner, kinds,
group, column schema, checks attached)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_dagster_definitions_validate_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, capture_output=True, text=True, timeout=180,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_asset_has_description_owner_kinds_group_and_checks_are_attached() -> None:
    graph = defs.resolve_asset_graph()
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
    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    query = {"query": "{ assetNodes { assetKey { path } groupName } }"}
    try:
        deadline, answer = time.monotonic() + 120, None
        while time.monotonic() < deadline and answer is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=json.dumps(query).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    answer = json.load(response)
            except (OSError, ValueError):
                assert process.poll() is None, "dagster dev exited"
                time.sleep(1)
        assert answer is not None, "dagster dev did not answer on loopback within 120 s"
        nodes = answer["data"]["assetNodes"]
        names = {"/".join(n["assetKey"]["path"]) for n in nodes}
        assert {"raw_cases", "missing_children_by_case_type", "release"} <= names
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
