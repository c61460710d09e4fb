"""`ikms person-check`: the command-line side of the bulk person check (wired into pipelines/cli.py)."""
from __future__ import annotations

import argparse
import datetime as dt
import sys

HELP = "status in education of each person in a CSV/XLSX of personal codes on a date"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", nargs="?", help="CSV or XLSX with a column personas_kods / personal_code / kods "
                                            "(else the first column is used)")
    p.add_argument("--date", type=_date, default=None, help="the date the status refers to (default: today)")
    p.add_argument("--out", default=None, help="output .csv or .xlsx (default: $IKMS_DATA_DIR/persons/"
                                               "<input>_statuss_<date>.<same type as the input>)")
    p.add_argument("--template", metavar="PATH.xlsx", default=None,
                   help="write the XLSX template to fill in (and do nothing else)")


def run(args) -> int:
    from pipelines.persons import io as pio
    from pipelines.persons.check import run_check
    from pipelines.persons.template import write_template

    if args.template:
        path = write_template(args.template)
        print(f"==> template written: {path}  (fill in sheet 'personas_kodi', then: ikms person-check {path.name} "
              f"--date YYYY-MM-DD --out result.xlsx)")
        return 0
    if not args.input:
        print("ikms person-check: give an INPUT file (or --template PATH.xlsx)", file=sys.stderr)
        return 2
    date = args.date or dt.date.today()
    try:
        result = run_check(args.input, date, args.out)
    except (pio.InputError, RuntimeError) as e:
        print(f"ikms person-check: {e}", file=sys.stderr)
        return 2
    n = result.frame.height
    print(f"==> {n:,} codes checked for {date.isoformat()} in {result.total_seconds:.2f} s: "
          + ", ".join(f"{k} {v:,}" for k, v in result.counts.items()))
    print("    " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()))
    lo, hi = result.coverage
    if hi and date > hi:
        print(f"    note: the registry data loaded end on {hi.isoformat()}; statuses reflect the latest data")
    if lo and date < lo:
        print(f"    note: the registry data loaded begin on {lo.isoformat()}; earlier enrolments are unknown")
    print(f"==> written: {result.out_path}")
    return 0
