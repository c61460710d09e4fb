"""Notifications against a REAL SMTP server (aiosmtpd on 127.0.0.1, a free port) over the hand-filled quality tables
of tests/unit/test_notify.py: recipients and content, cadence across runs with the as-of date advancing, the daily
cap and the deferred messages of the next day, dry-run, the audit log against what arrived, a group notification,
a refused recipient retried by the next run, and the e-address outbox beside SMTP."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import json
import socket

import duckdb
import pytest
from aiosmtpd.controller import Controller

from pipelines.notify import engine
from pipelines.notify.channels import SmtpConfig
from tests.unit.test_notify import ALFA, BAUSKA, BETA, GAMMA, LEARNER, RIGA, build_warehouse

pytestmark = pytest.mark.integration
D = dt.date


def inst(reg):
    return f"{reg}@iestades.example"


def coord(atvk):
    return f"koordinators.{atvk}@pasvaldibas.example"


class Collector:
    def __init__(self, refuse=()):
        self.messages = []  # (rcpt_tos, parsed message)
        self.refuse = set(refuse)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted"

    def take(self):
        out, self.messages = self.messages, []
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = Collector()
    ctl = Controller(handler, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    try:
        yield handler, SmtpConfig(host="127.0.0.1", port=ctl.port, sender="ikms@ikms.example", timeout=10)
    finally:
        ctl.stop()


@pytest.fixture
def wh(tmp_path):
    return build_warehouse(tmp_path / "warehouse.duckdb")


def _run(wh, cfg, as_of, **kw):
    kw.setdefault("channels", "smtp")
    return engine.run(as_of=as_of, warehouse=wh, smtp=cfg, **kw)


def _arrived(handler):
    """[(recipient, rule, subject, body, header hash, recomputed hash, message id)]"""
    out = []
    for rcpts, msg in handler.take():
        assert len(rcpts) == 1
        subject, body = str(msg["Subject"]), msg.get_content().replace("\r\n", "\n")
        out.append((rcpts[0], str(msg["X-IKMS-Rule"]), subject, body, str(msg["X-IKMS-Content-SHA256"]).strip(),
                    hashlib.sha256(f"{subject}\n\n{body}".encode("utf-8")).hexdigest(), str(msg["X-IKMS-Message-Id"]).strip()))
    return out


def _audit(wh, where="true"):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        cur = con.execute(f"select * from notify.audit_log where {where} order by created_at")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()


def test_messages_arrive_with_recipients_content_and_audited_hashes(wh, smtp_server):
    handler, cfg = smtp_server
    s = _run(wh, cfg, D(2025, 1, 17))
    got = _arrived(handler)
    assert sorted((r, rule) for r, rule, *_ in got) == sorted([
        (inst(ALFA), "deadline_soon"), (inst(ALFA), "invalid_rows"), (inst(BETA), "invalid_rows"),
        (inst(GAMMA), "failed_checks"), (coord(BAUSKA), "failed_checks"), (inst(ALFA), "discrepancies")])
    assert s.results == {"sent": 6}
    by = {(r, rule): (subj, body) for r, rule, subj, body, *_ in got}
    subj, body = by[(inst(ALFA), "deadline_soon")]
    assert subj == "IKMS atgādinājums: tuvojas datu iesniegšanas termiņš (2024/25 S1)"
    assert "  - vendor_a / grades, periods S1: termiņš 2025-01-20 (atlikušas 3 d.)\n" in body
    subj, body = by[(coord(BAUSKA), "failed_checks")]
    assert "Gamma pamatskola (reģ. nr. 3333333333)" in body and "klase is empty in 4 rows" in body
    _, body = by[(inst(ALFA), "discrepancies")]
    assert "fails vendor_a/2024/atzimes_2024.csv, rinda 301" in body and "rinda 240" in body
    assert all(LEARNER not in b and "Delta" not in b for _, _, _, b, *_ in got)
    # the audit log matches what arrived: one 'sent' row per message, same recipient and content hash
    for r, rule, subj, body, header_hash, computed, mid in got:
        assert header_hash == computed
    audit = {a["message_id"]: a for a in _audit(wh)}
    assert len(audit) == 6 and all(a["delivery_result"] == "sent" and not a["dry_run"] for a in audit.values())
    assert sorted((a["recipient"], a["rule_id"], a["content_sha256"]) for a in audit.values()) == \
        sorted((r, rule, computed) for r, rule, _, _, _, computed, _ in got)
    assert {mid for *_, mid in got} == set(audit)
    assert all(a["sent_at"] is not None and a["as_of"] == D(2025, 1, 17) for a in audit.values())


def test_cadence_across_runs_until_resolved(wh, smtp_server):
    handler, cfg = smtp_server
    rcpts = lambda: sorted(r for r, *_ in _arrived(handler))  # noqa: E731
    day0 = sorted([coord(RIGA), inst(ALFA)])
    _run(wh, cfg, D(2025, 1, 21), only_rules=["overdue"])
    assert rcpts() == day0                                   # day 0: sent
    s = _run(wh, cfg, D(2025, 1, 21), only_rules=["overdue"])
    assert rcpts() == [] and s.suppressed_by_cadence == 2    # same day again: nothing
    _run(wh, cfg, D(2025, 1, 22), only_rules=["overdue"])
    assert rcpts() == []                                     # day 1: within the 2-day cadence
    _run(wh, cfg, D(2025, 1, 23), only_rules=["overdue"])
    assert rcpts() == day0                                   # day 2: resent
    con = duckdb.connect(str(wh))
    con.execute(f"""update quality.dq_submissions set received = true, submitted_at = '2025-01-24 08:00', status = 'late'
                    where reg_nr = '{ALFA}' and entity = 'grades'""")
    con.close()
    for day in (25, 27, 29):                                 # resolved: nothing more
        s = _run(wh, cfg, D(2025, 1, day), only_rules=["overdue"])
        assert rcpts() == [] and s.results == {} and s.suppressed_by_cadence == 0
    sent = _audit(wh, "delivery_result = 'sent'")
    assert sorted({a["as_of"] for a in sent}) == [D(2025, 1, 21), D(2025, 1, 23)] and len(sent) == 4


def test_daily_cap_defers_in_priority_order_to_next_day(wh, smtp_server):
    handler, cfg = smtp_server
    got = lambda: sorted((r, rule) for r, rule, *_ in _arrived(handler))  # noqa: E731
    s = _run(wh, cfg, D(2025, 1, 17), daily_cap=2)
    # errors first: failed_checks to the institution and its coordinator
    assert got() == sorted([(inst(GAMMA), "failed_checks"), (coord(BAUSKA), "failed_checks")])
    assert s.results == {"sent": 2, "deferred": 4}
    assert {(a["recipient"], a["rule_id"]) for a in _audit(wh, "delivery_result = 'sent'")} == {
        (inst(GAMMA), "failed_checks"), (coord(BAUSKA), "failed_checks")}
    assert {(a["recipient"], a["rule_id"]) for a in _audit(wh, "delivery_result = 'deferred'")} == {
        (inst(ALFA), "deadline_soon"), (inst(ALFA), "invalid_rows"), (inst(BETA), "invalid_rows"),
        (inst(ALFA), "discrepancies")}
    s = _run(wh, cfg, D(2025, 1, 17), daily_cap=2)  # the same day: the cap is used up
    assert got() == [] and s.results == {"deferred": 4}
    # next day (the failed check was resolved by the clean run of 18 Jan): warnings, the earliest deadline first
    s = _run(wh, cfg, D(2025, 1, 18), daily_cap=2)
    assert got() == sorted([(inst(ALFA), "deadline_soon"), (inst(ALFA), "discrepancies")])
    assert s.results == {"sent": 2, "deferred": 2}
    s = _run(wh, cfg, D(2025, 1, 19), daily_cap=2)
    assert got() == sorted([(inst(ALFA), "invalid_rows"), (inst(BETA), "invalid_rows")])
    assert s.results == {"sent": 2}
    con = duckdb.connect(str(wh), read_only=True)
    per_day = con.execute("""select as_of, count(*) from notify.audit_log where delivery_result = 'sent'
                             group by 1 order by 1""").fetchall()
    con.close()
    assert [n for _, n in per_day] == [2, 2, 2]


def test_dry_run_sends_nothing_but_audits(wh, smtp_server, tmp_path):
    handler, cfg = smtp_server
    out = tmp_path / "outbox"
    s = engine.run(as_of=D(2025, 1, 17), dry_run=True, warehouse=wh, smtp=cfg, outbox=out)
    assert handler.take() == [] and not out.exists()
    assert s.results == {"dry_run": 6 + 5}  # 6 e-mails, 5 e-addresses (coordinators have none in the demo seed)
    rows = _audit(wh)
    assert len(rows) == 11 and all(r["dry_run"] and r["delivery_result"] == "dry_run" and r["sent_at"] is None
                                   for r in rows)
    _run(wh, cfg, D(2025, 1, 17))  # a dry run does not count for the cadence: the real run sends all
    assert len(handler.take()) == 6


def test_group_notification_reaches_exactly_the_municipality(wh, smtp_server):
    handler, cfg = smtp_server
    kw = dict(group={"municipality": RIGA}, title="IKMS: datu iesniegšanas kalendārs 2025", period="2025-01",
              text="Lūdzam iepazīties ar datu iesniegšanas kalendāru.", channels="smtp", warehouse=wh, smtp=cfg)
    s = engine.notify_group(as_of=D(2025, 1, 17), **kw)
    got = _arrived(handler)
    assert sorted(r for r, *_ in got) == [inst(ALFA), inst(BETA)] and s.results == {"sent": 2}
    assert all(subj == "IKMS: datu iesniegšanas kalendārs 2025" and "kalendāru" in body for _, _, subj, body, *_ in got)
    assert {a["group_key"] for a in _audit(wh)} == {f"municipality:{RIGA}"}
    assert {a["content_sha256"] for a in _audit(wh)} == {h for *_, h, _ in got}
    s = engine.notify_group(as_of=D(2025, 1, 20), **kw)  # once per recipient x period
    assert handler.take() == [] and s.suppressed_by_cadence == 2
    s = engine.notify_group(as_of=D(2025, 1, 20), group={"institution_type": "Vispārizglītojošā pamatskola"},
                            title="T", text="Teksts.", period="2025-01-b", channels="smtp", warehouse=wh, smtp=cfg,
                            daily_cap=1)
    assert [r for r, *_ in _arrived(handler)] == [inst(BETA)] and s.results == {"sent": 1, "deferred": 1}


def test_refused_recipient_fails_and_is_retried(wh, smtp_server):
    handler, cfg = smtp_server
    handler.refuse = {inst(BETA)}
    s = _run(wh, cfg, D(2025, 1, 17))
    assert s.results == {"sent": 5, "failed": 1} and len(handler.take()) == 5
    (failed,) = _audit(wh, "delivery_result = 'failed'")
    assert failed["recipient"] == inst(BETA) and "550" in failed["detail"]
    handler.refuse = set()
    s = _run(wh, cfg, D(2025, 1, 18))
    got = _arrived(handler)
    assert (inst(BETA), "invalid_rows") in {(r, rule) for r, rule, *_ in got}


def test_smtp_and_outbox_together(wh, smtp_server, tmp_path):
    handler, cfg = smtp_server
    out = tmp_path / "outbox" / "eaddress"
    s = engine.run(as_of=D(2025, 1, 17), warehouse=wh, smtp=cfg, outbox=out)
    assert s.results == {"sent": 6, "queued": 5} and len(handler.take()) == 6
    files = {json.loads(f.read_text(encoding="utf-8"))["message_id"]: json.loads(f.read_text(encoding="utf-8"))
             for f in out.glob("*.json")}
    queued = {a["message_id"]: a for a in _audit(wh, "channel = 'eaddress'")}
    assert set(files) == set(queued)
    for mid, env in files.items():
        assert env["content_sha256"] == queued[mid]["content_sha256"] == hashlib.sha256(
            f"{env['subject']}\n\n{env['body']}".encode()).hexdigest()
        assert env["recipient"] == f"_DEFAULT@{env['reg_nr']}" and queued[mid]["delivery_result"] == "queued"


def test_dagster_asset_sends_through_configured_smtp(wh, smtp_server, tmp_path, monkeypatch):
    import dagster as dg

    from pipelines.defs.ingest.resources import DuckDBWarehouse
    from pipelines.defs.notify.assets import reminders

    handler, cfg = smtp_server
    monkeypatch.setenv("IKMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IKMS_SMTP_HOST", cfg.host)
    monkeypatch.setenv("IKMS_SMTP_PORT", str(cfg.port))
    res = dg.materialize([reminders], resources={"warehouse": DuckDBWarehouse(path=str(wh))},
                         run_config={"ops": {"notify__reminders": {"config": {"as_of": "2025-01-17"}}}})
    assert res.success
    (mat,) = res.asset_materializations_for_node("notify__reminders")
    assert mat.metadata["results"].data == {"sent": 6, "queued": 5}
    assert len(handler.take()) == 6 and len(list((tmp_path / "outbox" / "eaddress").glob("*.json"))) == 5
