"""Territorial seeds and the old -> new municipality harmonisation."""
from __future__ import annotations

import io

import polars as pl
import pytest

from pipelines.common import territory as t
from pipelines.settings import REFERENCE_DIR, SEEDS_DIR

STATE_CITIES = {"Rīga", "Daugavpils", "Jelgava", "Jūrmala", "Liepāja", "Rēzekne", "Ventspils"}
REPUBLIC_CITIES = STATE_CITIES | {"Jēkabpils", "Valmiera"}


def _code(name: str) -> str:
    return t.load_units().filter(pl.col("name") == name)["atvk_code"].item()


def _viis_export() -> pl.DataFrame:
    # Doubled UTF-8 BOM, quoted fields with "" escapes and embedded line breaks, trailing pipe.
    text = (REFERENCE_DIR / "viis_institutions_export_2020-12.txt").read_bytes().decode("utf-8").lstrip("\ufeff")
    return pl.read_csv(io.StringIO(text), separator="|", quote_char='"', infer_schema=False)


def test_current_units():
    units = t.load_units()
    assert units.height == 43
    assert units["atvk_code"].n_unique() == 43
    assert units["atvk_code"].str.contains(r"^[0-9]{7}$").all()
    cities = units.filter(pl.col("kind") == "valstspilseta")
    assert set(cities["name"]) == STATE_CITIES
    novadi = units.filter(pl.col("kind") == "novads")
    assert novadi.height == 36
    assert novadi["name"].str.ends_with(" novads").all()
    assert "Varakļānu novads" in set(novadi["name"])
    assert units["lat"].is_between(55.6, 58.1).all() and units["lon"].is_between(20.9, 28.3).all()
    assert 1_800_000 < units["population_2024"].sum() < 1_950_000
    assert units.filter(pl.col("name") == "Rīga")["population_2024"].item() > 550_000


def test_old_units():
    old = t.load_old_units()
    assert old.height == 119
    assert old["atvk_code"].n_unique() == 119
    assert set(old.filter(pl.col("kind") == "republikas_pilseta")["name"]) == REPUBLIC_CITIES
    assert old.filter(pl.col("kind") == "novads").height == 110
    assert (old["name"].str.to_uppercase() == old["name_upper"]).all()
    # No old code collides with a current one: harmonise_atvk relies on it.
    assert not set(old["atvk_code"]) & set(t.load_units()["atvk_code"])


def test_every_old_unit_has_a_current_successor_and_every_current_unit_a_predecessor():
    old, units = t.load_old_units(), t.load_units()
    assert set(old["successor_atvk_code"]) <= set(units["atvk_code"])
    assert set(units["atvk_code"]) <= set(old["successor_atvk_code"])


@pytest.mark.parametrize(
    ("old_name", "new_name"),
    [
        ("Carnikavas novads", "Ādažu novads"),
        ("Baldones novads", "Ķekavas novads"),
        ("Jēkabpils", "Jēkabpils novads"),
        ("Valmiera", "Valmieras novads"),
        ("Aglonas novads", "Preiļu novads"),
        ("Daugavpils novads", "Augšdaugavas novads"),
        ("Ilūkstes novads", "Augšdaugavas novads"),
        ("Babītes novads", "Mārupes novads"),
        ("Aizputes novads", "Dienvidkurzemes novads"),
        ("Ozolnieku novads", "Jelgavas novads"),
        ("Viļānu novads", "Rēzeknes novads"),
        ("Rīga", "Rīga"),
        ("Varakļānu novads", "Varakļānu novads"),
    ],
)
def test_hand_picked_successors(old_name, new_name):
    old = t.load_old_units().filter(pl.col("name") == old_name)
    assert old["successor_atvk_code"].item() == _code(new_name)


def test_municipality_from_name_spellings():
    names = pl.Series(["RĪGA", "AGLONAS NOVADS", "Aglonas novads", "aglonas  novads ", "Ādažu novads",
                       "ADAZU NOVADS", "Valmieras nov.", "Rīgas valstspilsēta", "VENTSPILS", "VENTSPILS NOVADS",
                       "Atlantīda", None])
    got = t.municipality_from_name(names).to_list()
    assert got == [_code("Rīga"), _code("Preiļu novads"), _code("Preiļu novads"), _code("Preiļu novads"),
                   _code("Ādažu novads"), _code("Ādažu novads"), _code("Valmieras novads"), _code("Rīga"),
                   _code("Ventspils"), _code("Ventspils novads"), None, None]
    # also usable as an expression
    df = pl.DataFrame({"novads": ["JĒKABPILS", "KRUSTPILS NOVADS"]})
    out = df.select(t.municipality_from_name(pl.col("novads")).alias("atvk"))["atvk"].to_list()
    assert out == [_code("Jēkabpils novads")] * 2


def test_every_ministry_municipality_maps():
    izm = pl.read_csv(REFERENCE_DIR / "izm_general_schools_2020-21.csv", infer_schema=False)
    names = izm[izm.columns[1]].unique()
    assert names.len() == 119
    assert set(names) == set(t.load_old_units()["name_upper"])
    assert t.municipality_from_name(names).null_count() == 0


def test_municipality_from_address_patterns():
    addresses = pl.Series([
        "SKOLAS IELA 6, PRIEŽMALE, KASTUĻINAS PAGASTS, AGLONAS NOVADS, LV-5685",
        "MURJĀŅU IELA 1A, VIDZEMES PRIEKŠPILSĒTA, RĪGA, LV-1024",
        "DAUGAVPILS IELA 6, AGLONA, AGLONAS PAGASTS, AGLONAS NOVADS, LV-5304",  # street named after a city
        "GAUJAS IELA 2, VANGAŽI, INČUKALNA NOVADS, LV-2136",  # town split off to Ropažu novads
        "RĪGAS IELA 4, VALLE, VALLES PAGASTS, VECUMNIEKU NOVADS, LV-5106",  # parish split off to Aizkraukle
        "SKOLAS IELA 1, INČUKALNS, INČUKALNA PAGASTS, INČUKALNA NOVADS, LV-2141",
        "Pils iela 29, Varakļāni, Varakļānu nov., LV-4838",  # post-reform register style
        "Vārkavas iela 4, Vārkava, Vārkavas pag., Preiļu nov., LV-5337",
        "PARTIZĀNU IELA 16, BALVI, BALVU NOVADS, BALVU RAJONS, LV-4501",
        "21, GULBENES RAJONS, LV-4401",
        "",
        None,
    ])
    got = t.municipality_from_address(addresses).to_list()
    assert got == [_code("Preiļu novads"), _code("Rīga"), _code("Preiļu novads"), _code("Ropažu novads"),
                   _code("Aizkraukles novads"), _code("Siguldas novads"), _code("Varakļānu novads"),
                   _code("Preiļu novads"), _code("Balvu novads"), _code("Gulbenes novads"), None, None]


def test_postcode_fallback_uses_other_addresses_of_the_same_call():
    alone = t.municipality_from_address(pl.Series(["3, LV-2166"]))
    assert alone.to_list() == [None]
    with_neighbour = t.municipality_from_address(
        pl.Series(["3, LV-2166", "MAZCENU ALEJA 4A, JAUNMĀRUPE, MĀRUPES NOVADS, LV-2166"])
    )
    assert with_neighbour.to_list() == [_code("Mārupes novads")] * 2


def test_every_viis_export_address_maps():
    df = _viis_export()
    assert df.height == 2713
    codes = t.municipality_from_address(df["Adrese"])
    assert codes.len() == 2713
    # Zero unmappable: the 4 addresses without a unit name ('21, GULBENES RAJONS, LV-4401',
    # '40, VALMIERAS RAJONS, LV-4200', '3, LV-2166', 'Dārznieki, LV-4652') resolve via the whole-rajons
    # aliases and the postcode fallback.
    assert codes.null_count() == 0
    assert set(codes) <= set(t.load_units()["atvk_code"])
    assert codes.n_unique() == 43
    riga = (codes == _code("Rīga")).sum()
    assert 900 < riga < 1600  # the capital holds about half the registry's institutions


def test_harmonise_atvk():
    old = t.load_old_units()
    got = t.harmonise_atvk(old["atvk_code"])
    assert (got == old["successor_atvk_code"]).all()
    units = t.load_units()
    assert (t.harmonise_atvk(units["atvk_code"]) == units["atvk_code"]).all()
    codes = pl.Series(["0805200", "0054630", "604300", "9999999", None])
    assert t.harmonise_atvk(codes).to_list() == [_code("Ādažu novads"), _code("Valmieras novads"),
                                                 _code("Preiļu novads"), None, None]


def test_parish_successors_refer_to_real_units():
    parish = t.load_parish_successors()
    assert parish.columns == ["old_atvk_code", "part_name", "successor_atvk_code"]
    old = t.load_old_units()
    joined = parish.join(old, left_on="old_atvk_code", right_on="atvk_code", how="left")
    assert joined["name"].null_count() == 0
    # a split part goes somewhere else than the old novads' main successor
    assert (joined["successor_atvk_code"] != joined["successor_atvk_code_right"]).all()
    assert set(parish["successor_atvk_code"]) <= set(t.load_units()["atvk_code"])


def test_viis_classifiers_seed():
    cls = pl.read_csv(SEEDS_DIR / "viis_classifiers.csv", infer_schema=False)
    assert cls.columns == ["classifier", "code", "name_lv", "name_en"]
    assert cls.select(pl.all().is_null().any()).row(0) == (False,) * 4
    assert not cls.select("classifier", "code").is_duplicated().any()
    assert cls.equals(cls.sort("classifier", "code"))
    by = {k: set(v) for k, v in cls.group_by("classifier").agg("code").iter_rows()}
    assert set(by) == {"IESTADES_VEIDS", "IESTADES_TIPS", "PROGRAMMAS_VEIDS", "BEIGU_IEMESLS", "AMATS",
                       "PRIEKSMETS", "IZGLITIBAS_LIMENIS", "AKAD_AMATS", "ZIN_GRADS"}
    assert len(by["PRIEKSMETS"]) == 18
    viis = _viis_export()
    izm = pl.read_csv(REFERENCE_DIR / "izm_general_schools_2020-21.csv", infer_schema=False)
    assert set(viis["Veids"]) | set(izm["Iestādes veids"]) == by["IESTADES_VEIDS"]
    assert set(viis["Tips"]) | set(izm["Iestādes tips"]) == by["IESTADES_TIPS"]


def test_post_reform_address_names_the_new_unit_once():
    """A school of a former novads whose address names only a town got the whole address twice (the novads
    pattern did not match, so split/first/last returned the whole text on both sides)."""
    from pipelines.generator.institutions import _post_reform

    df = pl.DataFrame({
        "a": ["MADONAS IELA 48, JĒKABPILS, LV-5202", "SKOLAS IELA 1, AGLONA, AGLONAS NOVADS, LV-5304",
              "ALEJAS IELA 16, LIEPĀJA, LV-3401", "IELA 2, OGRE, LV-5001"],
        "old_kind": ["novads", "novads", "city", "city"],
        "new": ["JĒKABPILS NOVADS", "PREIĻU NOVADS", "LIEPĀJA", "OGRES NOVADS"],
        "new_kind": ["novads", "novads", "city", "novads"],
    })
    got = df.select(_post_reform(pl.col("a"), pl.col("old_kind"), pl.col("new"), pl.col("new_kind"))).to_series()
    assert got.to_list() == [
        "MADONAS IELA 48, JĒKABPILS, JĒKABPILS NOVADS, LV-5202",
        "SKOLAS IELA 1, AGLONA, PREIĻU NOVADS, LV-5304",
        "ALEJAS IELA 16, LIEPĀJA, LV-3401",
        "IELA 2, OGRE, OGRES NOVADS, LV-5001",
    ]


def test_generated_addresses_name_one_postcode():
    """Every reference institution's post-reform address holds exactly one postcode."""
    from pipelines.generator.institutions import load_reference

    ref = load_reference()
    col = "address_new" if "address_new" in ref.columns else "address"
    counts = ref.select(pl.col(col).str.count_matches(r"LV-[0-9]{4}")).to_series()
    assert counts.max() == 1, ref.filter(counts != 1).select(col).head(3)
