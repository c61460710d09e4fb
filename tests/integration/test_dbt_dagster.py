"""The dbt models as Dagster assets: the definitions load, the dbt graph hangs below the ingest assets raw/*,
dbt tests are asset checks, the yearly models are school-year partitioned, and a real materialization of a small
generated country through Dagster builds every model and fills indicators.indicator_values at all levels."""
from __future__ import annotations

import dagster as dg
import pytest

from tests.integration import dbt_warehouse as wh

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]


@pytest.fixture(scope="module")
def graph():
    from pipelines.definitions import defs

    return defs.resolve_asset_graph()


def test_dbt_assets_hang_below_the_ingest_assets(graph):
    keys = graph.get_all_asset_keys()
    layers = {k.path[0] for k in keys}
    assert {"raw", "staging", "intermediate", "marts", "indicators", "seeds"} <= layers
    # every staging model reads raw/* only (its dbt source is the ingest asset), and every raw table has a reader
    staging = [k for k in keys if k.path[0] == "staging"]
    assert len(staging) >= 20
    readers: set[str] = set()
    for k in staging:
        parents = {p.path[0] for p in graph.get(k).parent_keys}
        assert parents <= {"raw", "seeds"}, (k, parents)
        readers |= {p.to_user_string() for p in graph.get(k).parent_keys if p.path[0] == "raw"}
    assert readers == {k.to_user_string() for k in keys if k.path[0] == "raw"}
    # indicator_values is (transitively) downstream of the registry extract
    values = dg.AssetKey(["indicators", "indicator_values"])
    seen, todo = set(), [values]
    while todo:
        k = todo.pop()
        for p in graph.get(k).parent_keys:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    assert dg.AssetKey(["raw", "viis_enrolments"]) in seen


def test_yearly_models_are_partitioned_and_others_not(graph):
    from pipelines.defs.ingest.partitions import SCHOOL_YEAR

    by_key = {k.to_user_string(): graph.get(k).partitions_def for k in graph.get_all_asset_keys()}
    for name in ("intermediate/int_learner_years", "marts/fct_enrolments"):
        assert by_key[name] is not None and by_key[name].name == SCHOOL_YEAR, name
    for name in ("indicators/indicator_catalogue", "seeds/territorial_units", "staging/stg_viis__enrolments"):
        assert by_key[name] is None, name
    ind = [k for k in by_key if k.startswith("indicators/ind_") and not k.endswith("__finest")]
    assert len(ind) >= 35 and all(by_key[k] is not None for k in ind)


def test_dbt_tests_are_asset_checks(graph):
    checks = [c for c in graph.asset_check_keys if c.name != "reconciles"]
    assert len(checks) >= 100
    on = {c.asset_key.path[0] for c in checks}
    assert {"staging", "marts", "intermediate", "indicators"} <= on
    assert any(c.name.startswith("not_null_") for c in checks)
    assert any(c.name.startswith("unique") or "unique" in c.name for c in checks)


def test_materialization_through_dagster_builds_everything():
    wh.use()
    summary = wh.built()["summary"]
    layers = summary["layers"]
    for layer in ("staging", "intermediate", "marts", "indicators", "seeds"):
        assert layers.get(layer, {}).get("built", 0) > 0, (layer, layers)
    assert sum(v["tests_passed"] for v in layers.values()) >= 100
    assert set(summary["indicator_rows"]) >= set(wh.BUILT)
    rows = wh.query("SELECT level, count(DISTINCT indicator_id) FROM indicators.indicator_values "
                    "WHERE school_year = 2023 GROUP BY 1")
    levels = dict(rows)
    assert set(levels) == {"institution", "municipality", "national"}
    assert levels["national"] >= 35
    # the run is recorded in the data dir's Dagster instance: the partitions of the yearly models are there
    from pipelines.ingest.runner import dagster_home

    instance = dg.DagsterInstance.from_config(str(dagster_home()))
    done = instance.get_materialized_partitions(dg.AssetKey(["intermediate", "int_learner_years"]))
    assert {"2022", "2023"} <= set(done)
    # every dbt test passed (reported last: the checks above hold even when a model's data is off)
    assert wh.built()["failures"] == [], "failed dbt tests:\n" + "\n".join(wh.built()["failures"])
    assert all(c["tests_failed"] == 0 for c in layers.values()), layers
