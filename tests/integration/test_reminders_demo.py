"""Reminders on the generated demo country (the shared warehouse of dbt_warehouse.py: scale 0.03, 2022-2023
ingested and built through Dagster, quality marts included): the injected missing submissions, quarantined rows
and planted feed discrepancies produce exactly the expected e-address messages, asserted against the generator's
manifest; nothing in a message identifies a person; a second run on the same day sends nothing new."""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from collections import defaultdict

import duckdb
import pytest

from tests.integration import dbt_warehouse as wh

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]

AS_OF = dt.date(2024, 10, 15)  # after every deadline of 2022/23 and 2023/24 (the last: 27 Sep 2024 is 2024/25's)
LABELS = {y: f"{y}/{(y + 1) % 100:02d}" for y in wh.BUILT}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """notify.run on a COPY of the shared warehouse (the audit goes into it), e-address outbox in a temp dir."""
    from pipelines.notify.engine import run as notify_run

    data = wh.use()
    tmp = tmp_path_factory.mktemp("reminders_demo")
    db = tmp / "warehouse.duckdb"
    shutil.copyfile(data / "warehouse.duckdb", db)
    outbox = tmp / "outbox"
    first = notify_run(as_of=AS_OF, channels="eaddress", warehouse=db, outbox=outbox,
                       daily_cap={"eaddress": 100_000, "smtp": 100_000}).as_dict()
    files = sorted(outbox.glob("*.json"))
    messages = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    second = notify_run(as_of=AS_OF, channels="eaddress", warehouse=db, outbox=outbox,
                        daily_cap={"eaddress": 100_000, "smtp": 100_000}).as_dict()
    return {"data": data, "db": db, "messages": messages, "first": first, "second": second,
            "files_after_second": len(list(outbox.glob("*.json")))}


def _manifest(data) -> list[dict]:
    with open(data / "landing" / "_manifest" / "defects.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r for r in rows if r["file"] and int(r["file"].split("/")[1]) in wh.BUILT]


def _built(messages: list[dict], rule: str) -> list[dict]:
    """Institution messages of a rule about the built school years."""
    return [m for m in messages if m["rule"] == rule and m["recipient_kind"] == "institution"
            and m["period"][:7] in LABELS.values()]


def test_every_missing_submission_gets_an_overdue_reminder_and_nothing_else(run):
    planted = defaultdict(set)  # (reg_nr, message period) -> submission periods
    for r in _manifest(run["data"]):
        if r["kind"] == "missing_submission":
            reg, period = r["detail"].split(" ")[:2]
            planted[(reg, f"{LABELS[int(r['file'].split('/')[1])]} {period}")].add(period)
    assert len(planted) >= 5, "the demo country plants missing submissions"
    got = {(m["reg_nr"], m["period"]): m for m in _built(run["messages"], "overdue")}
    assert set(got) == set(planted)
    for key, m in got.items():
        assert m["recipient"] == f"_DEFAULT@{key[0]}" and m["severity"] == "error"
        assert all(p in m["body"] for p in planted[key]), m["body"]


def test_quarantined_rows_reach_their_institution(run):
    con = duckdb.connect(str(run["db"]), read_only=True)
    try:
        expected = con.execute(
            "select reg_nr, school_year, example_file, example_line from quality.dq_validity "
            f"where reg_nr is not null and rows_quarantined > 0 and school_year in {tuple(wh.BUILT)}").fetchall()
        # every quarantined row the manifest planted is in dq_validity (test_dq_marts: equal per rule)
        n_rows = con.execute("select sum(rows_quarantined) from quality.dq_validity "
                             f"where school_year in {tuple(wh.BUILT)}").fetchone()[0]
    finally:
        con.close()
    assert n_rows == sum(1 for r in _manifest(run["data"]) if r["level"] == "row")
    got = {(m["reg_nr"], m["period"]): m["body"] for m in _built(run["messages"], "invalid_rows")}
    assert set(got) == {(reg, LABELS[y]) for reg, y, _f, _l in expected}
    for reg, y, file, line in expected:  # each item names its first bad row by file and line
        body = got[(reg, LABELS[y])]
        assert file in body and str(line) in body


def test_planted_discrepancies_reach_their_institution(run):
    planted = {(r["detail"].split(" ")[0], LABELS[int(r["file"].split("/")[1])]) for r in _manifest(run["data"])
               if r["level"] == "discrepancy"}
    assert planted, "the demo country plants feed discrepancies"
    got = {(m["reg_nr"], m["period"][:7]) for m in _built(run["messages"], "discrepancies")}
    assert planted <= got
    con = duckdb.connect(str(run["db"]), read_only=True)
    try:
        in_mart = set(con.execute(
            "select reg_nr, cast(school_year as varchar) from quality.cmp_discrepancies "
            f"where school_year in {tuple(wh.BUILT)}").fetchall())
    finally:
        con.close()
    assert got == {(reg, LABELS[int(y)]) for reg, y in in_mart}


def test_no_person_is_identified_and_a_second_run_sends_nothing(run):
    assert run["messages"]
    hexes = re.compile(r"\b[0-9a-f]{16}\b")  # a pseudonym's shape
    codes = re.compile(r"\b[0-9]{6}-?[0-9]{5}\b")
    for m in run["messages"]:
        text = m["subject"] + "\n" + m["body"]
        assert not hexes.search(text.replace(m["content_sha256"], "")), "a pseudonym in a message"
        assert not codes.search(text), "a personal code in a message"
        assert "registry:" not in text, "where else a learner is enrolled is not the school's business"
    assert run["first"]["results"].get("queued", 0) + run["first"]["results"].get("sent", 0) == len(run["messages"])
    assert run["files_after_second"] == len(run["messages"])
    assert sum(v for k, v in run["second"]["results"].items() if k in ("sent", "queued")) == 0
