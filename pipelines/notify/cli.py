"""`ikms notify` and `ikms notify-group` (registered by pipelines/cli.py through `add_commands`)."""
from __future__ import annotations

import argparse
import datetime as dt

NOTIFY_HELP = "evaluate the reminder rules (models/notifications/rules.yaml) and send the messages"
GROUP_HELP = "send one notification to every institution of a municipality or of an institution type"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=_date, default=None, help="the date the rules are evaluated for (default today)")
    p.add_argument("--dry-run", action="store_true", help="send nothing; every message is still audited as dry_run")
    p.add_argument("--channel", choices=["smtp", "eaddress", "all"], default="all",
                   help="smtp (IKMS_SMTP_HOST ...; without a host: dry run), eaddress (the outbox), all (default)")
    p.add_argument("--lang", choices=["lv", "en"], default="lv", help="message language (default lv)")
    p.add_argument("--daily-cap", type=int, default=None, help="override the daily cap of every channel")
    p.add_argument("--rules", default=None, help="rules file (default models/notifications/rules.yaml)")


def _print(summary) -> None:
    d = summary.as_dict()
    print(f"==> notifications as of {d['as_of']} (run {d['run_id'][:12]}), channels: "
          + ", ".join(f"{k} ({v})" for k, v in d["channels"].items()), flush=True)
    for rule, counts in sorted(d["by_rule"].items()):
        print(f"  {rule:<20} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"  total: {', '.join(f'{k} {v}' for k, v in sorted(d['results'].items())) or 'no messages'}; "
          f"not due yet (cadence) {d['suppressed_by_cadence']}; without an address {d['no_address']}")
    for s in d["rules_skipped"]:
        print(f"  skipped: {s}")


def cmd_notify(args) -> None:
    from pipelines.notify.engine import run

    _print(run(as_of=args.as_of, dry_run=args.dry_run, channels=args.channel, language=args.lang,
               daily_cap=args.daily_cap, rules=args.rules, only_rules=args.rule or None))


def cmd_notify_group(args) -> None:
    from pipelines.notify.engine import notify_group

    group = ({"municipality": args.municipality} if args.municipality else
             {"institution_type": args.institution_type} if args.institution_type else
             {"institution_kind": args.institution_kind})
    text = open(args.text_file, encoding="utf-8").read() if args.text_file else args.text
    _print(notify_group(group=group, title=args.title, text=text, period=args.period, rule_id=args.rule_id,
                        severity=args.severity, cadence_days=args.cadence_days, as_of=args.as_of,
                        dry_run=args.dry_run, channels=args.channel, language=args.lang, daily_cap=args.daily_cap,
                        rules=args.rules))


def add_commands(sub) -> None:
    p = sub.add_parser("notify", help=NOTIFY_HELP, description=NOTIFY_HELP)
    _common(p)
    p.add_argument("--rule", action="append", help="only this rule id (repeatable)")
    p.set_defaults(handler=cmd_notify)
    p = sub.add_parser("notify-group", help=GROUP_HELP, description=GROUP_HELP)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--municipality", help="current ATVK code, e.g. 0001000")
    g.add_argument("--institution-type", help="VIIS tips (IESTADES_TIPS), e.g. 'Vispārizglītojošā pamatskola'")
    g.add_argument("--institution-kind", help="VIIS veids (IESTADES_VEIDS)")
    p.add_argument("--title", required=True, help="the subject")
    t = p.add_mutually_exclusive_group(required=True)
    t.add_argument("--text", help="the message text")
    t.add_argument("--text-file", help="a UTF-8 file with the message text")
    p.add_argument("--period", required=True, help="what the message is about, e.g. 2025-01 (once per recipient and period)")
    p.add_argument("--rule-id", default="group_notice", help="audit rule id (default group_notice)")
    p.add_argument("--severity", choices=["error", "warning", "info"], default="info")
    p.add_argument("--cadence-days", type=int, default=None, help="repeat every N days (default: send once)")
    _common(p)
    p.set_defaults(handler=cmd_notify_group)
