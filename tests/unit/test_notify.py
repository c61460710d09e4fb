"""Notifications, unit level: rule evaluation on tiny hand tables (the exact columns of the issue-4 brief), the
templates render exactly the items in Latvian and English, cadence arithmetic, rules validation, the privacy
guard, the outbox format. The real SMTP server is in tests/integration/test_notify_smtp.py."""
from __future__ import annotations

import datetime as dt
import json
import logging

import duckdb
import pytest

from pipelines.notify import audit, engine, rules, sources
from pipelines.notify.channels import OUTBOX_FORMAT, SmtpConfig
from pipelines.notify.messages import Message, PrivacyError, content_sha256, render

D = dt.date
LEARNER = "ab" * 8  # a pseudonym (16 hex digits): must never appear in a message

RIGA, BAUSKA = "0001000", "0025000"
ALFA, BETA, GAMMA, DELTA = "1111111111", "2222222222", "3333333333", "4444444444"
INSTITUTIONS = [  # reg_nr, name, municipality, email, type, closed
    (ALFA, "Alfa vidusskola", RIGA, f"{ALFA}@iestades.example", "Vispārizglītojošā vidusskola", None),
    (BETA, "Beta pamatskola", RIGA, f"{BETA}@iestades.example", "Vispārizglītojošā pamatskola", None),
    (GAMMA, "Gamma pamatskola", BAUSKA, f"{GAMMA}@iestades.example", "Vispārizglītojošā pamatskola", None),
    (DELTA, "Delta skola", BAUSKA, f"{DELTA}@iestades.example", "Vispārizglītojošā pamatskola", "2023-06-30"),
]
NO_SMTP = SmtpConfig(host=None)


def build_warehouse(path, with_tables=("dq_submissions", "dq_validity", "cmp_discrepancies", "gates")):
    """A warehouse with marts.dim_institutions and the quality tables, hand-filled (see the module docstring of
    each test for the expected items)."""
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema quality; create schema gates")
    con.execute("""create table marts.dim_institutions (school_year INTEGER, institution_id VARCHAR,
        institution_name VARCHAR, institution_kind VARCHAR, institution_type VARCHAR, municipality_code VARCHAR,
        email VARCHAR, closed_date DATE)""")
    for reg, name, muni, email, typ, closed in INSTITUTIONS:
        for y in (2023, 2024):
            con.execute("insert into marts.dim_institutions values (?, ?, ?, 'Vispārējās izglītības iestāde', ?, ?, ?, ?)",
                        [y, reg, name, typ, muni, email, closed])
    if "dq_submissions" in with_tables:
        con.execute("""create table quality.dq_submissions (reg_nr VARCHAR, municipality_code VARCHAR,
            school_year INTEGER, feed VARCHAR, entity VARCHAR, period VARCHAR, deadline TIMESTAMP, expected BOOLEAN,
            received BOOLEAN, submitted_at TIMESTAMP, days_late INTEGER, status VARCHAR)""")
        con.execute("""insert into quality.dq_submissions values
            ('1111111111', '0001000', 2024, 'vendor_a', 'grades', 'S1', '2025-01-20', true, false, null, null, 'missing'),
            ('1111111111', '0001000', 2024, 'viis', 'learners', 'year', '2024-09-05', true, true, '2024-09-10 10:00', 5, 'late'),
            ('2222222222', '0001000', 2024, 'vendor_b', 'grades', 'S1', '2025-01-20', true, true, '2025-01-15 09:00', 0, 'on_time'),
            ('3333333333', '0025000', 2024, 'vendor_a', 'absences', '2025-01', '2025-02-10', true, false, null, null, 'missing'),
            ('2222222222', '0001000', 2024, 'vendor_a', 'grades', 'S1', null, false, true, '2025-01-10', null, 'unexpected')""")
    if "dq_validity" in with_tables:
        con.execute("""create table quality.dq_validity (reg_nr VARCHAR, school_year INTEGER, feed VARCHAR,
            entity VARCHAR, rule VARCHAR, rows_quarantined BIGINT, rows_read BIGINT, share DOUBLE,
            example_file VARCHAR, example_line INTEGER)""")
        con.execute("""insert into quality.dq_validity values
            ('1111111111', 2024, 'vendor_a', 'grades', 'unknown_code', 3, 1000, 0.003, 'vendor_a/2024/atzimes_2024.csv', 17),
            (null, 2024, 'vendor_a', 'grades', 'unknown_institution', 5, 5, 1.0, 'vendor_a/2024/atzimes_2024.csv', 9),
            ('2222222222', 2023, 'viis', 'enrolments', 'personal_code_checksum', 1, 500, 0.002, 'viis/2023/viis_izraksts_2023.xml', 88),
            ('2222222222', 2024, 'viis', 'enrolments', 'missing_value', 0, 480, 0.0, null, null)""")
    if "cmp_discrepancies" in with_tables:
        con.execute("""create table quality.cmp_discrepancies (reg_nr VARCHAR, school_year INTEGER, period VARCHAR,
            vendor VARCHAR, kind VARCHAR, learner_id VARCHAR, registry_grade INTEGER, feed_class VARCHAR,
            feed_grade INTEGER, source_file VARCHAR, source_line INTEGER, detail VARCHAR)""")
        con.execute(f"""insert into quality.cmp_discrepancies values
            ('1111111111', 2024, 'S1', 'A', 'not_enrolled', '{LEARNER}', null, '5a', 5, 'vendor_a/2024/atzimes_2024.csv', 240, null),
            ('1111111111', 2024, 'S1', 'A', 'missing_from_feed', '{"cd" * 32}', 7, null, null, null, null, null),
            ('1111111111', 2024, 'S1', 'A', 'missing_from_feed', '{"ef" * 32}', 7, null, null, null, null, null),
            ('1111111111', 2024, 'S1', 'A', 'grade_mismatch', '{"01" * 32}', 6, '7b', 7, 'vendor_a/2024/atzimes_2024.csv', 301, null)""")
    if "gates" in with_tables:
        con.execute("""create table gates.results (run_id VARCHAR, checked_at TIMESTAMP, suite VARCHAR,
            asset_key VARCHAR, school_year INTEGER, expectation VARCHAR, column_name VARCHAR, severity VARCHAR,
            success BOOLEAN, observed VARCHAR, details VARCHAR)""")
        con.execute("""create table gates.failures (run_id VARCHAR, checked_at TIMESTAMP, suite VARCHAR,
            expectation VARCHAR, severity VARCHAR, school_year INTEGER, reg_nr VARCHAR, detail VARCHAR)""")
        con.execute("""insert into gates.results values
            ('r1', '2025-01-10 06:00', 'raw_viis_enrolments', 'raw/viis_enrolments', 2024, 'expect_column_values_to_not_be_null', 'klase', 'error', false, '4', null),
            ('r2', '2025-01-18 06:00', 'raw_viis_enrolments', 'raw/viis_enrolments', 2024, 'expect_column_values_to_not_be_null', 'klase', 'error', true, '0', null)""")
        con.execute("""insert into gates.failures values
            ('r1', '2025-01-10 06:00', 'raw_viis_enrolments', 'expect_column_values_to_not_be_null', 'error', 2024, '3333333333', 'klase is empty in 4 rows')""")
    con.close()
    return path


@pytest.fixture
def wh(tmp_path):
    return build_warehouse(tmp_path / "warehouse.duckdb")


def _items(path, source, as_of, **params):
    con = duckdb.connect(str(path))
    try:
        p = dict(sources.SOURCES[source].defaults, **params)
        return sources.evaluate(con, source, p, as_of)
    finally:
        con.close()


def test_submissions_due_and_overdue(wh):
    due = _items(wh, "submissions_due", D(2025, 1, 17), days_ahead=5)
    assert [(i["reg_nr"], i["feed"], i["entity"], i["period"], i["days_left"]) for i in due] == [
        (ALFA, "vendor_a", "grades", "2024/25 S1", 3)]
    assert _items(wh, "submissions_due", D(2025, 1, 17), days_ahead=2) == []
    assert [i["reg_nr"] for i in _items(wh, "submissions_due", D(2025, 2, 6))] == [GAMMA]
    # received on 10 Sep: overdue on 7 Sep, resolved from 10 Sep
    assert [(i["reg_nr"], i["entity"], i["days_overdue"]) for i in _items(wh, "submissions_overdue", D(2024, 9, 7))] \
        == [(ALFA, "learners", 2)]
    assert _items(wh, "submissions_overdue", D(2024, 9, 10)) == []
    over = _items(wh, "submissions_overdue", D(2025, 1, 21))
    assert [(i["reg_nr"], i["entity"], i["days_overdue"]) for i in over] == [(ALFA, "grades", 1)]
    assert _items(wh, "submissions_overdue", D(2025, 3, 1), max_days_overdue=30) == [
        i for i in _items(wh, "submissions_overdue", D(2025, 3, 1)) if i["reg_nr"] == GAMMA]


def test_invalid_rows_failed_checks_discrepancies(wh):
    inv = _items(wh, "invalid_rows", D(2025, 1, 17))
    assert [(i["reg_nr"], i["period"], i["rule"], i["file"], i["line"]) for i in inv] == [
        (ALFA, "2024/25", "unknown_code", "vendor_a/2024/atzimes_2024.csv", 17),
        (BETA, "2023/24", "personal_code_checksum", "viis/2023/viis_izraksts_2023.xml", 88)]
    assert [i["reg_nr"] for i in _items(wh, "invalid_rows", D(2025, 1, 17), school_years_back=0)] == [ALFA]
    assert _items(wh, "invalid_rows", D(2024, 1, 17)) == [inv[1]]  # 2024/25 had not begun
    fc = _items(wh, "failed_checks", D(2025, 1, 17))
    assert [(i["reg_nr"], i["expectation"], i["detail"]) for i in fc] == [
        (GAMMA, "expect_column_values_to_not_be_null", "klase is empty in 4 rows")]
    assert _items(wh, "failed_checks", D(2025, 1, 18)) == []  # the clean run r2 resolved it
    disc = _items(wh, "discrepancies", D(2025, 1, 17))
    assert [(i["kind"], i["feed_class"], i["registry_grade"], i["file"], i["line"], i["n"]) for i in disc] == [
        ("grade_mismatch", "7b", 6, "vendor_a/2024/atzimes_2024.csv", 301, 1),
        ("missing_from_feed", None, 7, None, None, 2),
        ("not_enrolled", "5a", None, "vendor_a/2024/atzimes_2024.csv", 240, 1)]
    assert all("learner_id" not in i for i in disc)


def _dry(wh, as_of, **kw):
    return engine.run(as_of=as_of, dry_run=True, warehouse=wh, smtp=NO_SMTP, **kw)


def _by(summary, rule, channel="smtp"):
    return {(m.recipient, m.period): m for m in summary.messages if m.rule_id == rule and m.channel == channel}


def test_messages_list_exact_items_lv(wh):
    s = _dry(wh, D(2025, 1, 17))
    assert s.channels == {"smtp": "dry_run", "eaddress": "dry_run"}
    soon = _by(s, "deadline_soon")
    assert list(soon) == [(f"{ALFA}@iestades.example", "2024/25 S1")]  # institution only (rules.yaml)
    m = soon[(f"{ALFA}@iestades.example", "2024/25 S1")]
    assert m.subject == "IKMS atgādinājums: tuvojas datu iesniegšanas termiņš (2024/25 S1)"
    assert "Iestāde: Alfa vidusskola (reģ. nr. 1111111111)" in m.body
    assert "  - vendor_a / grades, periods S1: termiņš 2025-01-20 (atlikušas 3 d.)\n" in m.body
    inv = _by(s, "invalid_rows")
    assert set(inv) == {(f"{ALFA}@iestades.example", "2024/25"), (f"{BETA}@iestades.example", "2023/24")}
    assert ("  - vendor_a / grades, noteikums unknown_code: 3 rindas no 1\u00a0000; piemērs: fails "
            "vendor_a/2024/atzimes_2024.csv, rinda 17\n") in inv[(f"{ALFA}@iestades.example", "2024/25")].body
    fc = _by(s, "failed_checks")  # institution and its coordinator (Bauska)
    assert set(fc) == {(f"{GAMMA}@iestades.example", "2024/25"), (f"koordinators.{BAUSKA}@pasvaldibas.example", "2024/25")}
    coord = fc[(f"koordinators.{BAUSKA}@pasvaldibas.example", "2024/25")]
    assert "Jūsu pašvaldības (Bauskas novads)" in coord.body and "Gamma pamatskola (reģ. nr. 3333333333)" in coord.body
    assert "  - raw_viis_enrolments: expect_column_values_to_not_be_null (kļūda): klase is empty in 4 rows\n" in coord.body
    disc = _by(s, "discrepancies")[(f"{ALFA}@iestades.example", "2024/25 S1")]
    assert disc.n_items == 3
    assert ("  - klase skolvadības sistēmā neatbilst VIIS: klase 7b (VIIS: 6. klase), periods S1, fails "
            "vendor_a/2024/atzimes_2024.csv, rinda 301\n") in disc.body
    assert "  - VIIS reģistrēti izglītojamie, kuru nav skolvadības sistēmas datos: 7. klase (VIIS), periods S1, 2 izglītojamie\n" in disc.body
    assert "rinda 240" in disc.body
    for msg in s.messages:  # never a pseudonym; the e-address channel reaches the institution's default mailbox
        assert LEARNER not in msg.body and "cd" * 32 not in msg.body
    assert {m.recipient for m in s.messages if m.channel == "eaddress"} == {f"_DEFAULT@{r}" for r in (ALFA, BETA, GAMMA)}


def test_messages_list_exact_items_en(wh):
    s = _dry(wh, D(2025, 1, 21), language="en")
    over = _by(s, "overdue")
    assert set(over) == {(f"{ALFA}@iestades.example", "2024/25 S1"), (f"koordinators.{RIGA}@pasvaldibas.example", "2024/25 S1")}
    m = over[(f"{ALFA}@iestades.example", "2024/25 S1")]
    assert m.subject == "IKMS: data submission overdue (2024/25 S1)" and m.language == "en"
    assert "  - vendor_a / grades, period S1: deadline 2025-01-20, overdue by 1 day(s)\n" in m.body
    assert "Institution: Alfa vidusskola (reg. no. 1111111111)" in m.body
    assert "repeated every 2 days" in m.body
    disc = _by(s, "discrepancies")[(f"{ALFA}@iestades.example", "2024/25 S1")]
    assert ("  - class in the school system differs from VIIS: class 7b (VIIS: grade 6), period S1, file "
            "vendor_a/2024/atzimes_2024.csv, line 301\n") in disc.body


def test_max_items_truncates_with_count(wh):
    rs = rules.load()
    rs = rules.RuleSet(rules=rs.rules, daily_cap=rs.daily_cap, max_items_per_message=1)
    s = _dry(wh, D(2025, 1, 17), rules=rs, only_rules=["discrepancies"], channels="smtp")
    (m,) = s.messages
    assert m.body.count("\n  - ") == 1 and "... un vēl 2" in m.body


def test_cadence_arithmetic():
    assert audit.due(None, D(2025, 1, 1), 2)
    assert not audit.due(D(2025, 1, 1), D(2025, 1, 1), 2)
    assert not audit.due(D(2025, 1, 1), D(2025, 1, 2), 2)
    assert audit.due(D(2025, 1, 1), D(2025, 1, 3), 2)
    assert not audit.due(D(2025, 1, 1), D(2025, 3, 1), None)  # once only


def test_missing_table_skips_rule_with_warning(tmp_path, caplog):
    wh = build_warehouse(tmp_path / "w.duckdb", with_tables=("dq_submissions",))
    with caplog.at_level(logging.WARNING):
        s = _dry(wh, D(2025, 1, 17))
    assert {x.split(":")[0] for x in s.rules_skipped} == {"invalid_rows", "failed_checks", "discrepancies"}
    assert "quality.cmp_discrepancies" in caplog.text
    assert {m.rule_id for m in s.messages} == {"deadline_soon"}


def test_dry_run_audits_and_does_not_count_for_cadence(wh, tmp_path):
    s1 = _dry(wh, D(2025, 1, 17))
    s2 = _dry(wh, D(2025, 1, 17))
    assert s1.results["dry_run"] == s2.results["dry_run"] > 0 and s2.suppressed_by_cadence == 0
    con = duckdb.connect(str(wh))
    n, dry = con.execute("select count(*), bool_and(dry_run and delivery_result = 'dry_run') from notify.audit_log").fetchone()
    con.close()
    assert n == 2 * s1.results["dry_run"] and dry
    assert not (tmp_path / "outbox").exists()


def test_outbox_files_are_complete_json(wh, tmp_path):
    out = tmp_path / "outbox" / "eaddress"
    s = engine.run(as_of=D(2025, 1, 17), channels="eaddress", warehouse=wh, smtp=NO_SMTP, outbox=out)
    files = sorted(out.glob("*.json"))
    assert len(files) == s.results["queued"] > 0 and not list(out.glob(".*"))
    for f in files:
        env = json.loads(f.read_text(encoding="utf-8"))
        assert env["format"] == OUTBOX_FORMAT and f.name == env["message_id"] + ".json"
        assert env["recipient"].startswith("_DEFAULT@") and env["recipient"][9:] == env["reg_nr"]
        assert env["content_sha256"] == content_sha256(env["subject"], env["body"])
        assert {"sender", "rule", "period", "severity", "language", "created_at", "body_format"} <= set(env)


def test_rules_validation_names_rule_and_field():
    ok = {"id": "x", "source": "invalid_rows", "recipients": ["institution"], "severity": "warning",
          "template": "invalid_rows"}
    assert rules.parse({"rules": [ok]}).rules[0].params == {"min_rows": 1, "school_years_back": None}
    for bad, msg in [({"source": "nope"}, "rules[0] (x).source"), ({"recipients": ["mayor"]}, ".recipients"),
                     ({"cadence_days": 0}, ".cadence_days"), ({"params": {"days": 1}}, ".params"),
                     ({"template": "missing"}, ".template"), ({"severity": "fatal"}, ".severity")]:
        with pytest.raises(rules.RuleError) as e:
            rules.parse({"rules": [dict(ok, **bad)]})
        assert msg in str(e.value)


def test_privacy_guard_blocks_pseudonyms():
    ctx = {"rule_id": "g", "cadence_days": None, "as_of": D(2025, 1, 1), "period": "p", "title": "T",
           "text": f"learner {LEARNER}", "inst": {"reg_nr": ALFA, "name": "Alfa"}}
    with pytest.raises(PrivacyError):
        render("group_notice", "lv", ctx)
    subject, body = render("group_notice", "lv", dict(ctx, text="Lūdzu pārbaudiet datus."))
    assert subject == "T" and "Adresāts: Alfa (reģ. nr. 1111111111)" in body


def test_default_without_smtp_host_is_dry_run_plus_outbox(monkeypatch):
    monkeypatch.delenv("IKMS_SMTP_HOST", raising=False)
    ch = engine.make_channels("all", dry_run=False)
    assert type(ch["smtp"]).__name__ == "DryRun" and type(ch["eaddress"]).__name__ == "EAddressOutbox"
    monkeypatch.setenv("IKMS_SMTP_HOST", "mail.example")
    assert type(engine.make_channels("all", dry_run=False)["smtp"]).__name__ == "SmtpChannel"
    assert all(type(c).__name__ == "DryRun" for c in engine.make_channels("all", dry_run=True).values())


def test_message_hash_is_subject_and_body():
    m = Message("r", "error", "p", "a@b", "institution", "smtp", "lv", "Tēma", "Teksts\n")
    assert m.content_sha256 == content_sha256("Tēma", "Teksts\n") != content_sha256("Tēma", "Teksts")


def test_generator_writes_institution_email_and_ingest_keeps_it(tmp_path):
    """The VIIS extract carries each institution's official e-mail (attribute epasts, reserved demo domain); the
    ingest reads it as iestades_epasts (not a person's data)."""
    from lxml import etree

    from pipelines.common.contracts import all_entities
    from pipelines.generator.writers import base, viis_xml
    from pipelines.ingest.ingest import read_partition
    from tests.fixtures.tiny_country import tiny_country

    doc = viis_xml.build(tiny_country(), 2021)
    data = base.to_bytes(doc, base.render_lines(doc))
    inst = etree.fromstring(data).findall("Iestades/Iestade")
    assert inst and all(i.get("epasts") == f"{i.get('regNr')}@iestades.example" for i in inst)
    target = tmp_path / "landing" / doc.path
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    entity = next(e for e in all_entities() if e.table == "viis_institutions")
    assert "iestades_epasts" in {c.name for c in entity.stored_columns}
    frame, _, issues = read_partition(entity, 2021, tmp_path / "landing")  # (the tiny country's codes are not
    assert not issues                                                      # the seeds': validation is not shown)
    assert sorted(frame["iestades_epasts"].to_list()) == sorted(f"{i.get('regNr')}@iestades.example" for i in inst)
