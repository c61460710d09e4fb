"""`dagster dev`, as the README documents it, serves the Dagster UI with every ingest asset and its checks."""
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

import pytest

from pipelines.common import contracts

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dagster_ui")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_dagster_dev_shows_the_ingest_assets(data_dir):
    port = free_port()
    env = dict(os.environ, IKMS_DATA_DIR=str(data_dir))
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "dev", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 90
        nodes = None
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail("dagster dev exited: " + proc.stdout.read().decode(errors="replace")[-3000:])
            try:
                answer = graphql(port, "{ assetNodes { assetKey { path } hasAssetChecks } }")
                nodes = answer["data"]["assetNodes"]
                if nodes:
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        assert nodes, "the Dagster UI did not answer within 90 s"
        keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
        expected = {f"raw/{e.table}" for e in contracts.all_entities()}
        assert expected <= keys, f"missing in the UI: {sorted(expected - keys)}"
        assert all(n["hasAssetChecks"] for n in nodes if "/".join(n["assetKey"]["path"]) in expected)
        assert (Path(data_dir) / "dagster_home" / "dagster.yaml").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
