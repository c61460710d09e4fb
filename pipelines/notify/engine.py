"""Evaluating the rules for an as-of date, building one message per rule x recipient x period x channel, and
dispatching them under the cadence, the daily caps and dry-run, with every message in notify.audit_log.

    run(as_of=..., dry_run=False, channels="all", language="lv")          the rules of rules.yaml
    notify_group(group={"municipality": "0001000"}, title=..., text=..., period=...)   a group notification

Grouping of items into messages is done in DuckDB (one row per message with the list of its items)."""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.notify import audit
from pipelines.notify import rules as rules_mod
from pipelines.notify.channels import Channel, DryRun, EAddressOutbox, SmtpChannel, SmtpConfig
from pipelines.notify.messages import Message, PrivacyError, render
from pipelines.notify.recipients import load_coordinators, load_institutions
from pipelines.notify.sources import SOURCES, table_exists

log = logging.getLogger(__name__)

GROUP_KINDS = {"municipality": "municipality_code", "institution_type": "institution_type",
               "institution_kind": "institution_kind"}


@dataclass
class Candidate:
    message: Message
    cadence_days: int | None


@dataclass
class Summary:
    run_id: str
    as_of: dt.date
    dry_run: bool
    channels: dict  # channel -> 'live' | 'dry_run'
    results: Counter = field(default_factory=Counter)  # delivery_result -> n
    by_rule: dict = field(default_factory=dict)  # rule -> Counter(delivery_result)
    suppressed_by_cadence: int = 0
    no_address: int = 0
    rules_skipped: list = field(default_factory=list)
    messages: list = field(default_factory=list)  # the Message objects dispatched (any result)

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "channels": self.channels, "results": dict(self.results),
                "by_rule": {k: dict(v) for k, v in self.by_rule.items()},
                "suppressed_by_cadence": self.suppressed_by_cadence, "no_address": self.no_address,
                "rules_skipped": self.rules_skipped}


def _channels_arg(channels) -> tuple[str, ...]:
    if channels in (None, "all"):
        return rules_mod.CHANNELS
    if isinstance(channels, str):
        channels = [channels]
    bad = [c for c in channels if c not in rules_mod.CHANNELS]
    if bad:
        raise ValueError(f"unknown channel(s) {bad}: smtp, eaddress or all")
    return tuple(channels)


def make_channels(selected, dry_run: bool, smtp: SmtpConfig | None = None, outbox: Path | None = None
                  ) -> dict[str, Channel]:
    """Without an SMTP host (IKMS_SMTP_HOST) the SMTP channel is a dry run: `make run` never reaches for a mail
    server; the e-address outbox is a local folder and is written unless dry_run."""
    smtp = smtp or SmtpConfig.from_env()
    out: dict[str, Channel] = {}
    for ch in _channels_arg(selected):
        if ch == "smtp":
            out[ch] = DryRun("smtp") if dry_run or not smtp.host else SmtpChannel(smtp)
        else:
            out[ch] = DryRun("eaddress") if dry_run else EAddressOutbox(outbox)
    return out


# ---------------------------------------------------------------------------------------------------- building

def _messages_sql(source_sql: str, recipients: tuple[str, ...], channels: tuple[str, ...]) -> str:
    parts = []
    addr = "case ch.channel when 'smtp' then {e} else {a} end"
    if "institution" in recipients:
        parts.append(f"""
            select 'institution' as recipient_kind, ch.channel, {addr.format(e='j.email', a='j.e_address')} as recipient,
                   j.reg_nr as r_reg_nr, j.muni as r_muni, null::varchar as muni_name, j.*
            from j cross join ch""")
    if "coordinator" in recipients:
        parts.append(f"""
            select 'coordinator' as recipient_kind, ch.channel, {addr.format(e='c.email', a='c.e_address')} as recipient,
                   null::varchar as r_reg_nr, j.muni as r_muni, c.municipality_name as muni_name, j.*
            from j join _notify_coordinators as c on c.municipality_code = j.muni cross join ch""")
    union = "\n union all by name \n".join(parts)
    chans = ", ".join(f"('{c}')" for c in channels)
    return f"""
        with src as ({source_sql}),
        it as (select src.*, i.name as institution_name from src left join _notify_institutions as i using (reg_nr)),
        j as (select it.reg_nr, it.period, it.deadline, coalesce(i.municipality_code, it.municipality_code) as muni,
                     i.email, coalesce(i.e_address, '_DEFAULT@' || it.reg_nr) as e_address, it as item
              from it left join _notify_institutions as i using (reg_nr)),
        ch(channel) as (values {chans}),
        r as ({union})
        select recipient_kind, channel, recipient, period, any_value(r_reg_nr) as reg_nr,
               any_value(r_muni) as municipality_code, any_value(muni_name) as municipality_name,
               min(deadline) as first_deadline, count(*) as n_items,
               list(item order by item.reg_nr, item.item_key) as items
        from r
        group by all
        order by channel, recipient_kind, recipient, period
    """


def _no_address_sql(source_sql: str, recipients: tuple[str, ...], channels: tuple[str, ...]) -> str:
    return f"select count(*) filter (where recipient is null) from ({_messages_sql(source_sql, recipients, channels)})"


def _group_items(items: list[dict], max_items: int) -> list[dict]:
    """[{reg_nr, name, items, more}] in reg_nr order, at most max_items items listed in all."""
    out, shown = [], 0
    for it in items:
        if not out or out[-1]["reg_nr"] != it["reg_nr"]:
            out.append({"reg_nr": it["reg_nr"], "name": it.get("institution_name"), "entries": [], "more": 0})
        if shown < max_items:
            out[-1]["entries"].append(it)
            shown += 1
        else:
            out[-1]["more"] += 1
    return out


def rule_candidates(con: duckdb.DuckDBPyConnection, rule: rules_mod.Rule, as_of: dt.date,
                    channels: tuple[str, ...], language: str, max_items: int, summary: Summary) -> list[Candidate]:
    src = SOURCES[rule.source]
    missing = [t for t in src.tables if not table_exists(con, t)]
    if missing:
        log.warning("notify: rule %s skipped: missing table(s) %s", rule.id, ", ".join(missing))
        summary.rules_skipped.append(f"{rule.id}: missing {', '.join(missing)}")
        return []
    source_sql = src.sql(con, rule.params)
    cur = con.execute(_messages_sql(source_sql, rule.recipients, channels), {"as_of": as_of})
    cols = [d[0] for d in cur.description]
    out, no_address = [], Counter()
    for row in cur.fetchall():
        m = dict(zip(cols, row))
        if m["recipient"] is None:
            no_address[(m["recipient_kind"], m["channel"])] += 1
            continue
        institutions = _group_items(m["items"], max_items)
        context = {"rule_id": rule.id, "cadence_days": rule.cadence_days, "as_of": as_of, "period": m["period"],
                   "recipient_kind": m["recipient_kind"], "municipality_name": m["municipality_name"],
                   "params": rule.params, "institutions": institutions, "n_items": m["n_items"]}
        msg = Message(rule_id=rule.id, severity=rule.severity, period=m["period"], recipient=m["recipient"],
                      recipient_kind=m["recipient_kind"], channel=m["channel"], language=language, subject="",
                      body="", reg_nr=m["reg_nr"], municipality_code=m["municipality_code"], n_items=m["n_items"],
                      first_deadline=m["first_deadline"])
        msg.headers["template"] = rule.template
        msg.headers["context"] = context
        out.append(Candidate(msg, rule.cadence_days))
    for (kind, channel), n in sorted(no_address.items()):
        summary.no_address += n  # e.g. coordinators without an e-address: that channel does not reach them
        (log.info if kind == "coordinator" else log.warning)(
            "notify: rule %s: %d %s message(s) without a %s address on record: not created", rule.id, n, kind, channel)
    return out


# ---------------------------------------------------------------------------------------------------- dispatch

def _priority(c: Candidate):
    m = c.message
    return (rules_mod.SEVERITIES.get(m.severity, 9), m.first_deadline is None, m.first_deadline or dt.datetime.max,
            m.rule_id, m.recipient_kind, m.recipient, m.period)


def dispatch(con: duckdb.DuckDBPyConnection, candidates: list[Candidate], summary: Summary,
             channels: dict[str, Channel], daily_cap: dict[str, int]) -> None:
    """Cadence filter, rendering, priority order, daily cap per channel, sending and auditing."""
    last = audit.last_delivered(con, summary.as_of)
    due = [c for c in candidates
           if audit.due(last.get((c.message.rule_id, c.message.channel, c.message.recipient, c.message.period)),
                        summary.as_of, c.cadence_days)]
    summary.suppressed_by_cadence += len(candidates) - len(due)
    due.sort(key=_priority)
    used = Counter(audit.delivered_on(con, summary.as_of))
    for ch_name, channel in channels.items():
        batch = [c for c in due if c.message.channel == ch_name]
        if not batch:
            continue
        dry = isinstance(channel, DryRun)
        cap = daily_cap.get(ch_name, rules_mod.DEFAULT_CAPS.get(ch_name, 0))
        with channel:
            for c in batch:
                m = c.message
                m.message_id = uuid.uuid4().hex
                created = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
                try:
                    if "template" in m.headers:
                        m.subject, m.body = render(m.headers.pop("template"), m.language, m.headers.pop("context"))
                    blocked = None
                except PrivacyError as e:
                    blocked = str(e)
                if blocked:
                    result, sent_at, detail = "blocked", None, blocked
                elif used[ch_name] >= cap:
                    result, sent_at, detail = "deferred", None, f"daily cap {cap} of channel {ch_name} reached"
                else:
                    d = channel.send(m)
                    result, sent_at, detail = d.result, d.sent_at, d.detail
                    if result in audit.DELIVERED or result == "dry_run":
                        used[ch_name] += 1
                audit.insert(con, {
                    "message_id": m.message_id, "run_id": summary.run_id, "as_of": summary.as_of,
                    "rule_id": m.rule_id, "severity": m.severity, "period": m.period, "channel": ch_name,
                    "recipient": m.recipient, "recipient_kind": m.recipient_kind, "reg_nr": m.reg_nr,
                    "municipality_code": m.municipality_code, "group_key": m.group_key, "language": m.language,
                    "subject": m.subject, "n_items": m.n_items, "first_deadline": m.first_deadline,
                    "content_sha256": m.content_sha256, "created_at": created, "sent_at": sent_at,
                    "delivery_result": result, "detail": detail, "dry_run": dry})
                summary.results[result] += 1
                summary.by_rule.setdefault(m.rule_id, Counter())[result] += 1
                summary.messages.append(m)


def _caps(rs_caps: dict, daily_cap) -> dict:
    caps = dict(rs_caps)
    if isinstance(daily_cap, int):
        caps = {k: daily_cap for k in rules_mod.CHANNELS}
    elif isinstance(daily_cap, dict):
        caps.update(daily_cap)
    return caps


def _finish_run(con, summary: Summary, kind: str, started: dt.datetime, language: str) -> None:
    r = summary.results
    con.execute("insert into notify.runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        summary.run_id, kind, summary.as_of, started, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
        summary.dry_run, ",".join(f"{k}:{v}" for k, v in summary.channels.items()), language, sum(r.values()),
        r["sent"], r["queued"], r["dry_run"], r["deferred"], r["failed"], summary.suppressed_by_cadence,
        "; ".join(summary.rules_skipped) or None])


def _open(warehouse: Path | None):
    from pipelines.ingest.load import connect

    return connect(Path(warehouse) if warehouse else settings.warehouse_path())


def run(as_of: dt.date | None = None, dry_run: bool = False, channels="all", language: str = "lv",
        rules: rules_mod.RuleSet | Path | str | None = None, only_rules: list[str] | None = None,
        daily_cap: int | dict | None = None, warehouse: Path | None = None, smtp: SmtpConfig | None = None,
        outbox: Path | None = None) -> Summary:
    """Evaluate every enabled rule for `as_of` (default today) and dispatch the messages."""
    as_of = as_of or dt.date.today()
    rs = rules if isinstance(rules, rules_mod.RuleSet) else rules_mod.load(rules)
    selected = _channels_arg(channels)
    chans = make_channels(selected, dry_run, smtp, outbox)
    summary = Summary(run_id=uuid.uuid4().hex, as_of=as_of, dry_run=dry_run,
                      channels={k: "dry_run" if isinstance(v, DryRun) else "live" for k, v in chans.items()})
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with _open(warehouse) as con:
        audit.ensure(con)
        load_institutions(con, as_of)
        load_coordinators(con)
        candidates: list[Candidate] = []
        for rule in rs.rules:
            if not rule.enabled or (only_rules and rule.id not in only_rules):
                continue
            candidates += rule_candidates(con, rule, as_of, selected, language, rs.max_items_per_message, summary)
        dispatch(con, candidates, summary, chans, _caps(rs.daily_cap, daily_cap))
        _finish_run(con, summary, "rules", started, language)
    return summary


def notify_group(group: dict, title: str, text: str, period: str, rule_id: str = "group_notice",
                 severity: str = "info", cadence_days: int | None = None, as_of: dt.date | None = None,
                 dry_run: bool = False, channels="all", language: str = "lv", daily_cap: int | dict | None = None,
                 rules: rules_mod.RuleSet | Path | str | None = None, warehouse: Path | None = None,
                 smtp: SmtpConfig | None = None, outbox: Path | None = None) -> Summary:
    """One message per institution of the group (e.g. {"municipality": "0001000"} or {"institution_type": ...})
    and channel, through the same cadence (once per rule_id x recipient x period unless cadence_days), daily caps,
    dry-run and audit as the rules."""
    if len(group) != 1 or next(iter(group)) not in GROUP_KINDS:
        raise ValueError(f"group: exactly one of {', '.join(GROUP_KINDS)}")
    (gkind, gvalue), = group.items()
    if severity not in rules_mod.SEVERITIES:
        raise ValueError(f"severity {severity!r}")
    as_of = as_of or dt.date.today()
    rs = rules if isinstance(rules, rules_mod.RuleSet) else rules_mod.load(rules)
    selected = _channels_arg(channels)
    chans = make_channels(selected, dry_run, smtp, outbox)
    summary = Summary(run_id=uuid.uuid4().hex, as_of=as_of, dry_run=dry_run,
                      channels={k: "dry_run" if isinstance(v, DryRun) else "live" for k, v in chans.items()})
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    group_key = f"{gkind}:{gvalue}"
    with _open(warehouse) as con:
        audit.ensure(con)
        load_institutions(con, as_of)
        rows = con.execute(f"""select reg_nr, name, municipality_code, email, e_address from _notify_institutions
                               where {GROUP_KINDS[gkind]} = ? order by reg_nr""", [gvalue]).fetchall()
        if not rows:
            log.warning("notify: group %s has no institutions", group_key)
        candidates = []
        for reg_nr, name, muni, email, e_addr in rows:
            for ch in selected:
                recipient = email if ch == "smtp" else e_addr
                if not recipient:
                    summary.no_address += 1
                    continue
                context = {"rule_id": rule_id, "cadence_days": cadence_days, "as_of": as_of, "period": period,
                           "title": title, "text": text, "inst": {"reg_nr": reg_nr, "name": name}}
                msg = Message(rule_id=rule_id, severity=severity, period=period, recipient=recipient,
                              recipient_kind="group", channel=ch, language=language, subject="", body="",
                              reg_nr=reg_nr, municipality_code=muni, group_key=group_key, n_items=1)
                msg.headers.update(template="group_notice", context=context)
                candidates.append(Candidate(msg, cadence_days))
        dispatch(con, candidates, summary, chans, _caps(rs.daily_cap, daily_cap))
        _finish_run(con, summary, f"group {group_key}", started, language)
    return summary
