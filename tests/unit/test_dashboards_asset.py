"""The dashboards/site asset hangs below the indicators in the Dagster graph, and the CLI knows the command."""
from __future__ import annotations


def test_site_asset_downstream_of_indicator_values():
    import dagster as dg

    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    key = dg.AssetKey(["dashboards", "site"])
    node = graph.get(key)
    parents = {p.to_user_string() for p in node.parent_keys}
    assert "indicators/indicator_values" in parents and "indicators/indicator_catalogue" in parents
    assert {"quality/dq_completeness", "quality/dq_timeliness", "quality/dq_institution_report"} <= parents
    assert all(graph.has(p) for p in node.parent_keys)  # every dependency is a real asset of the project
    assert node.group_name == "dashboards" and node.partitions_def is None
    assert defs.get_job_def("dashboards_site") is not None


def test_cli_dashboards_arguments(monkeypatch):
    from pipelines import cli

    seen = {}
    monkeypatch.setattr(cli, "cmd_dashboards", lambda args: seen.update(vars(args)))
    assert cli.main(["dashboards", "--internal", "--out", "/tmp/x", "--serve"]) == 0
    assert seen["internal"] is True and seen["out"] == "/tmp/x" and seen["serve"] == 8000 and not seen["bench"]
