"""notify.audit_log (every message created: sent, queued, dry_run, deferred, failed, blocked) and notify.runs; the
cadence state and the daily volume are read back from the audit log."""
from __future__ import annotations

import datetime as dt

import duckdb

AUDIT_DDL = """
create schema if not exists notify;
create table if not exists notify.audit_log (
    message_id VARCHAR primary key,   -- also the e-mail's X-IKMS-Message-Id and the outbox file name
    run_id VARCHAR not null,
    as_of DATE not null,              -- the date the rules were evaluated for (cadence and daily caps count in it)
    rule_id VARCHAR not null,         -- a rule of rules.yaml, or the rule id of a group notification
    severity VARCHAR,
    period VARCHAR not null,          -- e.g. '2023/24 S1', '2023/24'
    channel VARCHAR not null,         -- smtp | eaddress
    recipient VARCHAR not null,       -- e-mail address or e-address
    recipient_kind VARCHAR not null,  -- institution | coordinator | group
    reg_nr VARCHAR,                   -- the institution (institution and group messages)
    municipality_code VARCHAR,        -- the coordinator's municipality (current ATVK)
    group_key VARCHAR,                -- group notifications: 'municipality:<atvk>' | 'institution_type:<tips>' | ...
    language VARCHAR,
    subject VARCHAR,
    n_items INTEGER,
    first_deadline TIMESTAMP,
    content_sha256 VARCHAR not null,  -- sha256(subject + '\\n\\n' + body)
    created_at TIMESTAMP not null,    -- UTC
    sent_at TIMESTAMP,                -- UTC; null unless sent / queued
    delivery_result VARCHAR not null, -- sent | queued | dry_run | deferred | failed | blocked
    detail VARCHAR,                   -- error text, outbox file
    dry_run BOOLEAN not null
);
create table if not exists notify.runs (
    run_id VARCHAR primary key, kind VARCHAR, as_of DATE, started_at TIMESTAMP, finished_at TIMESTAMP,
    dry_run BOOLEAN, channels VARCHAR, language VARCHAR, messages INTEGER, sent INTEGER, queued INTEGER,
    dry_runs INTEGER, deferred INTEGER, failed INTEGER, suppressed_by_cadence INTEGER, rules_skipped VARCHAR
);
"""

DELIVERED = ("sent", "queued")

COLUMNS = ("message_id", "run_id", "as_of", "rule_id", "severity", "period", "channel", "recipient", "recipient_kind",
           "reg_nr", "municipality_code", "group_key", "language", "subject", "n_items", "first_deadline",
           "content_sha256", "created_at", "sent_at", "delivery_result", "detail", "dry_run")


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)


def last_delivered(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[tuple, dt.date]:
    """(rule_id, channel, recipient, period) -> as_of of the latest real delivery on or before `as_of`."""
    rows = con.execute("""
        select rule_id, channel, recipient, period, max(as_of) from notify.audit_log
        where not dry_run and delivery_result in ('sent', 'queued') and as_of <= ?
        group by all""", [as_of]).fetchall()
    return {tuple(r[:4]): r[4] for r in rows}


def due(last: dt.date | None, as_of: dt.date, cadence_days: int | None) -> bool:
    """At most one message per rule x recipient x period per cadence window: the first time, then again once
    cadence_days have passed since the last delivery (None: never again)."""
    if last is None:
        return True
    if cadence_days is None:
        return False
    return (as_of - last).days >= cadence_days


def delivered_on(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, int]:
    """Messages really delivered per channel on the as-of day (against the daily cap)."""
    rows = con.execute("""select channel, count(*) from notify.audit_log
                          where as_of = ? and not dry_run and delivery_result in ('sent', 'queued')
                          group by channel""", [as_of]).fetchall()
    return dict(rows)


def insert(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    con.execute(f"insert into notify.audit_log ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))})",
                [row.get(c) for c in COLUMNS])
