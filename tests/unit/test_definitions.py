"""The Dagster definitions load; the ingest asset graph (keys, groups, deps, checks) is as snapshotted here."""
from __future__ import annotations

from pipelines.common.contracts import all_entities

REFERENCING = {"exams_results", "vendor_a_absences", "vendor_a_grades", "vendor_a_planned_lessons",
               "vendor_b_attendance", "vendor_b_grades", "vendor_b_planned_lessons", "viis_academic_staff",
               "viis_classes", "viis_enrolments", "viis_programmes", "viis_staff_posts"}


def test_asset_graph_snapshot():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    raw = {k.path[1]: k for k in graph.get_all_asset_keys() if k.path[0] == "raw"}
    assert sorted(raw) == sorted(e.table for e in all_entities()) and len(raw) == 22
    for table, key in raw.items():
        parents = {p.to_user_string() for p in graph.get(key).parent_keys}
        assert parents == ({"raw/viis_institutions"} if table in REFERENCING else set()), table
        assert graph.get(key).group_name == table.rsplit("_", 1)[0] or table.startswith(graph.get(key).group_name)
    checks = {c.name for c in graph.asset_check_keys}
    assert checks == {"reconciles"}
    assert len(graph.asset_check_keys) == 22
    assert defs.get_sensor_def("landing_files") is not None


def test_sensor_changes_group_by_feed_and_year():
    from pipelines.defs.ingest.sensors import changes

    old = {"vendor_a/2023/a.csv": [1, 1], "viis/2023/x.xml": [5, 5]}
    new = {"vendor_a/2023/a.csv": [2, 1], "viis/2023/x.xml": [5, 5], "vendor_b/2024/g.jsonl": [1, 1]}
    assert changes(old, new) == [("vendor_a", "2023"), ("vendor_b", "2024")]
