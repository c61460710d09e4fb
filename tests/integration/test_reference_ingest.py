"""The two real public files of the registry, ingested as registry sources of institutions through Dagster:
2,713 institutions; 688 general schools with 215,973 pupils in grades 1-12; only the 43 current municipalities."""
from __future__ import annotations

import shutil

import duckdb
import pytest

from pipelines import settings
from pipelines.common import territory

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("reference")]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from tests.conftest import set_data_dir

    data = tmp_path_factory.mktemp("reference_data")
    set_data_dir(data)
    landing = data / "landing"
    (landing / "viis_public" / "2020").mkdir(parents=True)
    (landing / "izm" / "2020").mkdir(parents=True)
    shutil.copy(settings.REFERENCE_DIR / "viis_institutions_export_2020-12.txt",
                landing / "viis_public" / "2020" / "iestades_2020-12.txt")
    shutil.copy(settings.REFERENCE_DIR / "izm_general_schools_2020-21.csv",
                landing / "izm" / "2020" / "vispareja_izglitiba_2020.csv")
    from pipelines.ingest.runner import materialize

    materialize(years=[2020], feeds=["viis_public", "izm"], progress=lambda m: None)
    return settings.warehouse_path()


@pytest.fixture(autouse=True)
def _in_reference_dir(warehouse, monkeypatch):
    monkeypatch.setenv("IKMS_DATA_DIR", str(warehouse.parent))


def query(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_all_2713_institutions_load(warehouse):
    assert query(warehouse, "select count(*) from raw.viis_public_institutions")[0][0] == 2713
    assert query(warehouse, "select count(*) from quarantine.rows where target_table = 'viis_public_institutions'")[0][0] == 0


def test_688_general_schools_with_215973_pupils(warehouse):
    n, pupils = query(warehouse, "select count(*), sum(skolenu_skaits_1_12) from raw.izm_general_schools")[0]
    assert (n, pupils) == (688, 215_973)


def test_only_current_municipalities(warehouse):
    current = set(territory.load_units()["atvk_code"].to_list())
    assert len(current) == 43
    for table in ("raw.viis_public_institutions", "raw.izm_general_schools"):
        codes = {r[0] for r in query(warehouse, f"select distinct municipality_atvk from {table}")}
        assert None not in codes, f"{table}: an institution without a current municipality"
        assert codes <= current, f"{table}: codes outside the 43: {codes - current}"
    # the general schools cover every one of the 43 current units
    assert len({r[0] for r in query(warehouse, "select distinct municipality_atvk from raw.izm_general_schools")}) == 43


def test_person_columns_never_stored(warehouse):
    cols = {r[0] for r in query(warehouse, "select column_name from information_schema.columns where table_schema = 'raw'")}
    assert not cols & {"vaditajs", "talrunis", "e_pasts", "epasts", "direktors"}


def test_reform_merges_are_applied(warehouse):
    # Carnikava (Carnikavas novads before 2021) is in Ādažu novads now; Valmiera city in Valmieras novads
    units = territory.load_units()
    by_name = dict(zip(units["name"].to_list(), units["atvk_code"].to_list()))
    rows = dict(query(warehouse, "select registracijas_numurs, municipality_atvk from raw.viis_public_institutions"))
    assert rows["4380802201"] == by_name["Ādažu novads"]  # RIČU IELA 6, SIGUĻI, CARNIKAVAS NOVADS
    valmiera = query(warehouse, "select distinct municipality_atvk from raw.izm_general_schools where novads = 'VALMIERA'")
    assert valmiera == [(by_name["Valmieras novads"],)]
