"""The Dagster definitions load; the ingest asset graph (keys, groups, deps, checks) is as snapshotted here, and
the dbt assets hang below it. (Loading the definitions prepares the dbt manifest when the dbt project changed:
a `dbt parse`, some seconds; otherwise it is reused.)"""
from __future__ import annotations

import dagster as dg

from pipelines.common.contracts import all_entities

REFERENCING = {"exams_results", "vendor_a_absences", "vendor_a_grades", "vendor_a_planned_lessons",
               "vendor_b_attendance", "vendor_b_grades", "vendor_b_planned_lessons", "viis_academic_staff",
               "viis_classes", "viis_confirmations", "viis_enrolments", "viis_programmes", "viis_staff_posts"}


def test_asset_graph_snapshot():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    raw = {k.path[1]: k for k in graph.get_all_asset_keys() if k.path[0] == "raw"}
    assert sorted(raw) == sorted(e.table for e in all_entities()) and len(raw) == 23
    for table, key in raw.items():
        parents = {p.to_user_string() for p in graph.get(key).parent_keys}
        assert parents == ({"raw/viis_institutions"} if table in REFERENCING else set()), table
        assert graph.get(key).group_name == table.rsplit("_", 1)[0] or table.startswith(graph.get(key).group_name)
    raw_checks = [c for c in graph.asset_check_keys if c.asset_key.path[0] == "raw"]
    # every raw asset: the ingest's `reconciles` and the quality gate `ge_gates` (pipelines/defs/quality)
    assert {c.name for c in raw_checks} == {"reconciles", "ge_gates"} and len(raw_checks) == 2 * len(raw)
    assert defs.get_sensor_def("landing_files") is not None


def test_dbt_assets_below_raw():
    from pipelines.definitions import defs
    from pipelines.defs.ingest.partitions import SCHOOL_YEAR

    graph = defs.resolve_asset_graph()
    dbt_keys = [k for k in graph.get_all_asset_keys() if k.path[0] != "raw"]
    assert dbt_keys, "no dbt assets"
    for k in dbt_keys:  # keys are <schema>/<model>, groups the schema (layer)
        assert len(k.path) == 2 and graph.get(k).group_name == k.path[0], k
    raw_parents = {p for k in dbt_keys for p in graph.get(k).parent_keys if p.path[0] == "raw"}
    assert raw_parents, "no dbt model reads a raw/* ingest asset"
    assert all(graph.get(p).partitions_def is not None for p in raw_parents)  # the real ingest assets
    parted = [k for k in dbt_keys if graph.get(k).partitions_def is not None]
    assert all(graph.get(k).partitions_def.name == SCHOOL_YEAR for k in parted)
    assert isinstance(defs.resources["dbt"], dg.ConfigurableResource)
    assert defs.resources["dbt"].dbt_executable.endswith("/dbt")


def test_translator_maps_raw_sources_to_ingest_keys():
    from pipelines.defs.dbt.assets import IkmsTranslator

    t = IkmsTranslator()
    src = {"resource_type": "source", "schema": "raw", "name": "enrolments", "identifier": "viis_enrolments",
           "source_name": "viis", "fqn": ["ikms", "viis", "enrolments"]}
    assert t.get_asset_key(src) == dg.AssetKey(["raw", "viis_enrolments"])
    model = {"resource_type": "model", "schema": "marts", "name": "fct_grades", "alias": "fct_grades",
             "fqn": ["ikms", "marts", "fct_grades"], "config": {}}
    assert t.get_asset_key(model) == dg.AssetKey(["marts", "fct_grades"])
    assert t.get_group_name(model) == "marts"


def test_partition_ranges_are_contiguous_in_partition_order():
    from pipelines.ingest.runner import _contiguous

    keys = ["2015", "2016", "2017", "2018", "2014"]  # dynamic partitions keep the order they were added in
    assert _contiguous(keys, {"2015", "2016", "2017", "2018", "2014"}) == [("2015", "2014")]
    assert _contiguous(keys, {"2015", "2017", "2018"}) == [("2015", "2015"), ("2017", "2018")]
    assert _contiguous(keys, set()) == []


def test_manifest_fingerprint_follows_models_not_generated_files(tmp_path, monkeypatch):
    from pipelines.defs.dbt import project

    (tmp_path / "models" / "indicators" / "generated").mkdir(parents=True)
    (tmp_path / "models" / "a.sql").write_text("select 1")
    (tmp_path / "dbt_project.yml").write_text("name: x")
    first = project.fingerprint(tmp_path)
    (tmp_path / "models" / "indicators" / "generated" / "ind_x.sql").write_text("select 2")
    assert project.fingerprint(tmp_path) == first
    (tmp_path / "models" / "a.sql").write_text("select 3")
    assert project.fingerprint(tmp_path) != first
    monkeypatch.setenv("IKMS_CATALOGUE_DIR", str(tmp_path / "cat"))
    (tmp_path / "cat" / "1_results").mkdir(parents=True)
    before = project.fingerprint(tmp_path)
    (tmp_path / "cat" / "1_results" / "X.yaml").write_text("id: X")
    assert project.fingerprint(tmp_path) != before  # a new catalogue entry makes the manifest stale


def test_sensor_changes_group_by_feed_and_year():
    from pipelines.defs.ingest.sensors import changes

    old = {"vendor_a/2023/a.csv": [1, 1], "viis/2023/x.xml": [5, 5]}
    new = {"vendor_a/2023/a.csv": [2, 1], "viis/2023/x.xml": [5, 5], "vendor_b/2024/g.jsonl": [1, 1]}
    assert changes(old, new) == [("vendor_a", "2023"), ("vendor_b", "2024")]
