"""VIIS registry extract (XML) of one school year: landing/viis/<Y>/viis_izraksts_<Y>.xml. One record element
per line, values as attributes named as the contract's `source` names."""
from __future__ import annotations

import polars as pl

from pipelines.common import school_years
from pipelines.generator.country import Country
from pipelines.generator.writers.base import PARENT, Doc, Part
from pipelines.generator.writers import viis_confirmations
from pipelines.generator.writers.common import (active_institutions, classifier_codes, people, pre_reform,
                                                year_end, year_start)

SEX = {"M": "V", "F": "S"}



def _post_holders(ppl: pl.DataFrame, posts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The persons holding `posts`, numbered (PARENT) in personal-code order, and the attributes of their
    parent element (Darbinieks / Persona): code, sex, birth year. Names are added by the caller if at all."""
    people = (ppl.join(posts.select("person_key").unique(), on="person_key", how="semi").sort("code")
              .with_row_index(PARENT).with_columns(pl.col(PARENT).cast(pl.Int64)))
    attrs = people.select(PARENT, pl.col("code").alias("personasKods"),
                          pl.col("sex").replace_strict(SEX, default=None).alias("dzimums"),
                          pl.col("birth_date").dt.year().cast(pl.Utf8).alias("dzimsanasGads"))
    return people, attrs

def _date(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Utf8)


def _upto(col: str, year: int) -> pl.Expr:
    """A date known by the extract's date (after the year's end), else null (still open then)."""
    return pl.when(pl.col(col) <= year_end(year)).then(pl.col(col).cast(pl.Utf8)).otherwise(None)


def build(country: Country, year: int) -> Doc:
    old = pre_reform(year)
    inst = active_institutions(country, year).sort("reg_nr")
    inst_f = inst.select(
        pl.col("reg_nr").alias("regNr"), pl.col("name").alias("nosaukums"),
        classifier_codes(country, "IESTADES_VEIDS", pl.col("kind")).alias("veids"),
        classifier_codes(country, "IESTADES_TIPS", pl.col("type")).alias("tips"),
        pl.col("founder_type").alias("dibinatajaTips"), pl.col("founder").alias("dibinatajs"),
        pl.col("atvk_old" if old else "atvk_new").alias("atvk"), pl.col("address_code").alias("adresesKods"),
        pl.col("address_old" if old else "address_new").alias("adrese"),
        _upto("opened", year).alias("darbibasSakums"), _upto("closed", year).alias("likvidets"),
        pl.col("vendor").alias("sistema"),
        (pl.col("reg_nr") + "@iestades.example").alias("epasts"),  # official address; reserved demo domain
    )
    regs = inst.select("reg_nr")
    prog = (country.programmes.join(regs, on="reg_nr", how="semi")
            .filter(pl.col("licence_date").is_null() | (pl.col("licence_date") <= year_end(year)))
            .sort("reg_nr", "programme_code")
            .select(pl.col("reg_nr").alias("iestadesRegNr"), pl.col("programme_code").alias("kods"),
                    pl.col("name").alias("nosaukums"),
                    classifier_codes(country, "PROGRAMMAS_VEIDS", pl.col("programme_kind")).alias("programmasVeids"),
                    pl.col("licence_nr").alias("licencesNr"), _date("licence_date").alias("licencesDatums"),
                    _date("accredited_until").alias("akreditetsLidz")))
    classes = (country.classes.filter(pl.col("year") == year).sort("reg_nr", "grade", "letter", "class_id")
               .select(pl.col("class_id").alias("id"), pl.col("reg_nr").alias("iestadesRegNr"),
                       pl.col("grade").cast(pl.Utf8).alias("klase"), pl.col("letter").alias("burts"),
                       pl.col("programme_code").alias("programmasKods")))
    ppl = people(country).join(country.persons.select("person_key", "first_name", "last_name", "sex", "birth_date",
                                                      "address_code"), on="person_key")
    spells = country.enrolments.filter(pl.col("year_started") == year)
    learners = (ppl.join(spells.select("person_key").unique(), on="person_key", how="semi").sort("code")
                .with_row_index(PARENT).with_columns(pl.col(PARENT).cast(pl.Int64)))
    learn_f = learners.select(
        PARENT, pl.col("code").alias("personasKods"), pl.col("first_name").alias("vards"),
        pl.col("last_name").alias("uzvards"), pl.col("sex").replace_strict(SEX, default=None).alias("dzimums"),
        _date("birth_date").alias("dzimsanasDatums"), pl.col("address_code").alias("deklAdresesKods"))
    macibas = (spells.join(learners.select("person_key", PARENT), on="person_key")
               .sort(PARENT, "start_date", "reg_nr", "programme_code")
               .select(PARENT, pl.col("reg_nr").alias("iestadesRegNr"), pl.col("programme_code").alias("programmasKods"),
                       pl.col("grade").cast(pl.Utf8).alias("klase"), pl.col("course").cast(pl.Utf8).alias("kurss"),
                       pl.col("class_id").alias("klasesId"), _date("start_date").alias("sakumaDatums"),
                       _upto("end_date", year).alias("beiguDatums"), pl.col("end_reason").alias("beiguIemesls")))
    overlap = lambda f: f.filter((pl.col("start_date") <= year_end(year)) &  # noqa: E731
                                 (pl.col("end_date").is_null() | (pl.col("end_date") >= year_start(year))))
    posts = overlap(country.staff_posts).join(regs, on="reg_nr", how="semi")
    staff, staff_f = _post_holders(ppl, posts)
    amats = (posts.join(staff.select("person_key", PARENT), on="person_key")
             .sort(PARENT, "reg_nr", "post_code", "subject_code", "start_date", nulls_last=True)
             .select(PARENT, pl.col("reg_nr").alias("iestadesRegNr"), pl.col("post_code").alias("amataKods"),
                     pl.col("subject_code").alias("prieksmets"), pl.col("fte").round(2).cast(pl.Utf8).alias("likmes"),
                     pl.col("qualification").alias("kvalifikacija"), pl.col("education").alias("izglitiba"),
                     _date("start_date").alias("sakumaDatums"), _upto("end_date", year).alias("beiguDatums")))
    acad_posts = overlap(country.academic_posts).join(regs, on="reg_nr", how="semi")
    acad, acad_f = _post_holders(ppl, acad_posts)
    acad_amats = (acad_posts.join(acad.select("person_key", PARENT), on="person_key")
                  .sort(PARENT, "reg_nr", "position", "start_date")
                  .select(PARENT, pl.col("reg_nr").alias("iestadesRegNr"), pl.col("position").alias("amats"),
                          pl.col("degree").alias("zinatniskaisGrads"), pl.col("fte").round(2).cast(pl.Utf8).alias("likmes"),
                          _date("start_date").alias("sakumaDatums"), _upto("end_date", year).alias("beiguDatums")))
    cl = country.classifiers.sort("classifier", "code")
    kl = (cl.select(pl.col("classifier").alias("kods")).unique(maintain_order=True)
          .with_row_index(PARENT).with_columns(pl.col(PARENT).cast(pl.Int64)))
    vert = cl.join(kl.rename({"kods": "classifier"}), on="classifier").select(
        PARENT, pl.col("code").alias("kods"), pl.col("name_lv").alias("nosaukums"), pl.col("name_en").alias("nosaukumsEn"))
    parts = [
        Part(None, kl, "Klasifikators", "Klasifikatori"),
        Part("classifiers", vert, "Vertiba", parent="Klasifikators"),
        Part("institutions", inst_f, "Iestade", "Iestades"),
        Part("programmes", prog, "Programma", "Programmas"),
        Part("classes", classes, "Klase", "Klases"),
        Part("learners", learn_f, "Izglitojamais", "Izglitojamie"),
        Part("enrolments", macibas, "Macibas", parent="learners"),
        Part(None, staff_f, "Darbinieks", "Darbinieki"),
        Part("staff_posts", amats, "Amats", parent="Darbinieks"),
        Part(None, acad_f, "Persona", "AkademiskaisPersonals"),
        Part("academic_staff", acad_amats, "Amats", parent="Persona"),
        Part("confirmations", viis_confirmations.records(viis_confirmations.draw(country, year), year),
             "Apstiprinajums", "Apstiprinajumi"),
    ]
    label = f"{year}/{year + 1}"
    return Doc(
        feed="viis", path=f"viis/{school_years.key(year)}/viis_izraksts_{year}.xml", fmt="xml", parts=parts, year=year,
        root_open=['<?xml version="1.0" encoding="UTF-8"?>',
                   f'<VIISIzraksts macibuGads="{label}" izveidots="{year + 1}-09-01T06:00:00">'],
        root_close=["</VIISIzraksts>"],
    )
