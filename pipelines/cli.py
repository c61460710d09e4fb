"""`ikms`: the command line of the pipeline.

  ikms generate   write the demo country into $IKMS_DATA_DIR/landing
  ikms ingest     materialize the ingest assets (every school-year partition found in landing/) through Dagster
  ikms build      materialize the dbt assets (seeds, staging, intermediate, marts, indicators) through Dagster
  ikms run        generate (unless the same parameters were already generated), ingest, build and export: everything
  ikms dev        the Dagster UI (http://127.0.0.1:3000) over the same data directory
  ikms notify     evaluate the reminder rules for a date, send e-mails / e-address outbox messages (--dry-run)
  ikms notify-group  one notification to every institution of a municipality or institution type
  ikms check      run every quality gate (expectations/), write gates.results, build the GE Data Docs
  ikms export     write the open datasets (CSV, Parquet, datapackage.json, DCAT-AP) to $IKMS_DATA_DIR/open_data
  ikms dashboards build the offline Plotly dashboard site in $IKMS_DATA_DIR/dashboards (--internal, --serve)
  ikms publish    publish the open-data exports to a CKAN portal (--url; key from IKMS_CKAN_API_KEY; --dry-run)
  ikms person-check  bulk status of persons (CSV/XLSX of personal codes) on a date; --template writes the XLSX template
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from pipelines import settings


def parse_years(text: str) -> list[int]:
    """'2015-2024' -> [2015..2024]; '2022,2024' -> [2022, 2024]."""
    years: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-", 1)
            years.extend(range(int(a), int(b) + 1))
        elif part:
            years.append(int(part))
    return sorted(set(years))


def _say(message: str) -> None:
    print(message, flush=True)


def _generation_parameters(args) -> dict:
    return {"seed": args.seed, "scale": args.scale, "years": args.years, "defect_rate": args.defect_rate}


def cmd_generate(args, force: bool = True) -> None:
    from pipelines.generator.main import generate

    landing = settings.landing_dir()
    stamp = landing / "_manifest" / "generation.json"
    wanted = _generation_parameters(args)
    if not force and stamp.exists():
        done = json.loads(stamp.read_text(encoding="utf-8")).get("parameters", {})
        if all(done.get(k) == v for k, v in wanted.items()):
            _say(f"==> demo country already generated with {wanted} in {landing}: kept")
            return
    if landing.exists():
        import shutil

        shutil.rmtree(landing)  # a new country replaces the old one whole: no stale files of other years
    t0 = time.perf_counter()
    _say(f"==> generating the demo country: scale {args.scale}, school years {args.years[0]}-{args.years[-1]}, seed {args.seed}")
    generate(seed=args.seed, scale=args.scale, years=args.years, landing=landing, defect_rate=args.defect_rate, progress=_say)
    _say(f"==> generated in {time.perf_counter() - t0:.1f} s: {landing}")


def cmd_ingest(args) -> dict:
    from pipelines.ingest.runner import materialize

    t0 = time.perf_counter()
    _say(f"==> materializing the ingest assets through Dagster into {settings.warehouse_path()}")
    summary = materialize(years=getattr(args, "years", None), progress=_say)
    _say(f"==> ingested in {time.perf_counter() - t0:.1f} s")
    return summary


def cmd_build(args) -> dict:
    from pipelines.ingest.runner import BuildFailed, GatesFailed, build

    t0 = time.perf_counter()
    _say(f"==> materializing the dbt assets through Dagster (staging -> intermediate -> marts -> indicators)")
    try:
        summary = build(years=getattr(args, "years", None), progress=_say,
                        ignore_gates=getattr(args, "ignore_gates", False),
                        full_refresh=getattr(args, "full_refresh", False))
    except GatesFailed as e:
        _say("==> REFUSED to build the warehouse: the raw data failed error-severity quality gates "
             "(gates.results; fix the data and ingest again, or `ikms build --ignore-gates`):")
        for f in e.failures:
            _say(f"    {f}")
        raise SystemExit(1)
    except BuildFailed as e:
        _print_build_summary(e.summary)
        _say(f"==> dbt build FAILED after {time.perf_counter() - t0:.1f} s:")
        for f in e.failures:
            _say(f"    {f}")
        raise SystemExit(1)
    _print_build_summary(summary)
    _say(f"==> built in {time.perf_counter() - t0:.1f} s")
    return summary


def _print_build_summary(summary: dict) -> None:
    _say(f"  {'layer':<14}{'built':>7}{'tests passed':>14}{'failed':>8}{'warned':>8}")
    for layer, c in summary.get("layers", {}).items():
        _say(f"  {layer:<14}{c['built']:>7}{c['tests_passed']:>14}{c['tests_failed']:>8}{c.get('tests_warned', 0):>8}")
    rows = summary.get("indicator_rows", {})
    if rows:
        _say(f"  indicators.indicator_values: {summary.get('indicators', 0)} indicators, {sum(rows.values()):,} rows "
             f"({', '.join(f'{y}: {n:,}' for y, n in rows.items())})")


def cmd_run(args) -> None:
    t0 = time.perf_counter()
    cmd_generate(args, force=False)
    t1 = time.perf_counter()
    summary = cmd_ingest(args)
    t2 = time.perf_counter()
    cmd_build(args)
    t3 = time.perf_counter()
    docs = cmd_reminders_and_docs()
    t4 = time.perf_counter()
    cmd_export(args)
    t5 = time.perf_counter()
    cmd_dashboards(argparse.Namespace(internal=False, out=None, serve=None, boundaries=None, bench=False))
    t6 = time.perf_counter()
    _say("")
    _say("Done. Outputs:")
    _say(f"  warehouse (DuckDB):     {settings.warehouse_path()}   raw.*, quarantine.rows, quarantine.file_issues, meta.ingest_files,")
    _say(f"                          staging.*, intermediate.*, marts.*, indicators.indicator_values, indicators.indicator_catalogue,")
    _say(f"                          quality.* (data-quality marts, import-vs-registry comparison), gates.* (quality-gate")
    _say(f"                          results), notify.audit_log (every reminder, sent or dry run)")
    _say(f"  quality-gate Data Docs: {docs}")
    _say(f"  e-address outbox:       {settings.data_dir() / 'outbox' / 'eaddress'}")
    _say(f"  open data exports:      {settings.data_dir() / 'open_data'}   (manifest.json, catalog.jsonld, <dataset>/)")
    _say(f"  dashboards:             {settings.data_dir() / 'dashboards' / 'index.html'}   (open in a browser; `ikms dashboards --serve`)")
    _say(f"  dbt log of the build:   {settings.data_dir() / 'logs' / 'dbt_build.log'}")
    _say(f"  landing files:          {settings.landing_dir()}")
    _say(f"  injected-defect manifest: {settings.landing_dir() / '_manifest' / 'defects.csv'}")
    _say(f"  Dagster run history:    {settings.data_dir() / 'dagster_home'}   (browse it with `make dev`)")
    if isinstance(summary, dict) and summary:
        read = sum(v.get("rows_read", 0) for v in summary.values() if isinstance(v, dict))
        quarantined = sum(v.get("rows_quarantined", 0) for v in summary.values() if isinstance(v, dict))
        _say(f"  rows read {read:,}, quarantined {quarantined:,}")
    _say(f"  time: generate {t1 - t0:.0f} s, ingest {t2 - t1:.0f} s, dbt build {t3 - t2:.0f} s, "
         f"reminders and Data Docs {t4 - t3:.0f} s, open-data export {t5 - t4:.0f} s, dashboards {t6 - t5:.0f} s, "
         f"total {t6 - t0:.0f} s")


def cmd_reminders_and_docs():
    """The tail of `ikms run`: the reminders of today (notify/reminders through Dagster; a dry run for e-mail unless
    IKMS_SMTP_HOST is set, the e-address outbox written) and the Data Docs of the gates this process ran."""
    from pipelines.ingest.runner import notify
    from pipelines.quality import gates

    _say("==> reminders as of today (models/notifications/rules.yaml; e-mail is a dry run unless IKMS_SMTP_HOST is set)")
    md = notify(progress=_say)
    results = md.get("results") or {}
    _say(f"  messages: {', '.join(f'{k} {v}' for k, v in sorted(results.items())) or 'none'}")
    for rule, counts in sorted((md.get("by_rule") or {}).items()):
        _say(f"    {rule:<20} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return gates.build_data_docs()


def cmd_export(args) -> None:
    """The open datasets from the warehouse's open_data.od_* tables (disclosure-controlled) to
    $IKMS_DATA_DIR/open_data, through Dagster (asset open_data/exports)."""
    from pipelines.ingest.runner import export_open_data

    t0 = time.perf_counter()
    out = settings.data_dir() / "open_data"
    _say(f"==> exporting the open datasets to {out}")
    try:
        md = export_open_data(datasets=getattr(args, "dataset", None) or None, progress=_say)
    except RuntimeError as e:
        _say(f"==> export FAILED: {e}")
        raise SystemExit(1)
    for name, rows in sorted((md.get("rows_per_dataset") or {}).items()):
        _say(f"  {name}: {rows:,} rows")
    _say(f"==> exported {md.get('datasets', 0)} dataset(s), {md.get('files', 0)} files, "
         f"{md.get('bytes', 0):,} bytes in {time.perf_counter() - t0:.1f} s (manifest: {out / 'manifest.json'})")


def cmd_dashboards(args) -> None:
    """The static dashboard site from the warehouse (asset dashboards/site through Dagster); --bench builds it
    directly (no Dagster) and prints seconds and page sizes; --serve serves it on http://127.0.0.1:PORT."""
    from pathlib import Path

    from pipelines.defs.dashboards.assets import default_out_dir

    edition = "internal" if args.internal else "public"
    out = Path(args.out).resolve() if args.out else default_out_dir(edition)
    t0 = time.perf_counter()
    _say(f"==> building the {edition} dashboard site in {out}")
    if args.bench:
        from dashboards.build import build_site
        from dashboards.bench import print_summary

        import os

        boundaries = args.boundaries or os.environ.get("IKMS_MUNICIPALITY_BOUNDARIES")
        summary = build_site(settings.warehouse_path(), out, edition=edition,
                             boundaries=Path(boundaries) if boundaries else None, progress=_say)
        print_summary(summary)
    else:
        from pipelines.ingest.runner import build_dashboards

        try:
            md = build_dashboards(edition=edition, out_dir=str(out), boundaries=args.boundaries, progress=_say)
        except RuntimeError as e:
            _say(f"==> dashboards FAILED: {e}")
            raise SystemExit(1)
        _say(f"==> {md.get('pages', 0)} pages, {md.get('bytes', 0):,} bytes in {time.perf_counter() - t0:.1f} s: "
             f"{out / 'index.html'}")
    if args.serve is not None:
        serve(out, args.serve)


def serve(directory, port: int = 8000) -> None:
    """Serve a built site on http://127.0.0.1:port until Ctrl-C (the site also works opened from disk)."""
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        _say(f"==> serving {directory} on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


def cmd_person_check(args) -> None:
    from pipelines.persons.command import run

    code = run(args)
    if code:
        raise SystemExit(code)


def cmd_check(args) -> None:
    """Run every quality gate (raw per school year, marts, indicators), write gates.results / gates.failures,
    build the Data Docs; exit 1 when an error-severity expectation failed."""
    from pipelines.quality import gates

    t0 = time.perf_counter()
    _say(f"==> quality gates (expectations/) on {settings.warehouse_path()}")
    results = gates.run_gates(gates.select_suites(), years=getattr(args, "years", None))
    for line in gates.summary_lines(results):
        _say(line)
    docs = gates.build_data_docs()
    _say(f"  Data Docs: {docs} (offline: GE's styles come from a CDN, so without network the pages are unstyled)")
    _say(f"  results: gates.results, per-institution failures: gates.failures")
    _say(f"==> checked in {time.perf_counter() - t0:.1f} s")
    if any(r.errors for r in results):
        raise SystemExit(1)


def cmd_dev(args) -> None:
    from pipelines.ingest.runner import dev

    dev(port=args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ikms", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("generate", "run"):
        p = sub.add_parser(name)
        p.add_argument("--scale", type=float, default=0.05, help="1.0 = the real national figures (default 0.05)")
        p.add_argument("--years", type=parse_years, default=parse_years("2015-2024"),
                       help="school-year keys, e.g. 2015-2024 (2024 = 2024/25)")
        p.add_argument("--seed", type=int, default=20241)
        p.add_argument("--defect-rate", type=float, default=0.002, help="share of rows given a defect (default 0.002)")
    p = sub.add_parser("ingest")
    p.add_argument("--years", type=parse_years, default=None, help="default: every year found in landing/")
    p = sub.add_parser("build")
    p.add_argument("--years", type=parse_years, default=None,
                   help="school years whose yearly models are rebuilt (default: every ingested year)")
    p.add_argument("--ignore-gates", action="store_true",
                   help="build even though the raw data failed error-severity quality gates")
    p.add_argument("--full-refresh", action="store_true",
                   help="rebuild every model from scratch, every school year (once after a yearly model's "
                        "columns changed: dbt refuses the schema change of an existing table)")
    p = sub.add_parser("check", help="run every quality gate (expectations/) and build the GE Data Docs")
    p.add_argument("--years", type=parse_years, default=None, help="school years of the raw tables (default: all)")
    p = sub.add_parser("export", help="write the open datasets to $IKMS_DATA_DIR/open_data")
    p.add_argument("--dataset", action="append", default=None,
                   help="a dataset name, number or model (repeatable; default: every dataset)")
    p = sub.add_parser("dashboards", help="build the offline Plotly dashboard site in $IKMS_DATA_DIR/dashboards")
    p.add_argument("--internal", action="store_true",
                   help="the internal edition (unsuppressed values, bannered; default out: $IKMS_DATA_DIR/dashboards-internal)")
    p.add_argument("--out", default=None, help="output directory (default $IKMS_DATA_DIR/dashboards)")
    p.add_argument("--serve", type=int, nargs="?", const=8000, default=None, metavar="PORT",
                   help="after building, serve the site on http://127.0.0.1:PORT (default 8000)")
    p.add_argument("--boundaries", default=None,
                   help="GeoJSON of the 43 municipalities (property municipality_code) for a true choropleth "
                        "(default: env IKMS_MUNICIPALITY_BOUNDARIES)")
    p.add_argument("--bench", action="store_true", help="build without Dagster and print seconds and page sizes")
    p = sub.add_parser("dev")
    p.add_argument("--port", type=int, default=3000)
    from pipelines.persons.command import HELP as _PERSON_HELP, add_arguments as _person_arguments

    _person_arguments(sub.add_parser("person-check", help=_PERSON_HELP))
    from pipelines.notify.cli import add_commands as _notify_commands

    _notify_commands(sub)  # notify, notify-group (they set args.handler)
    from pipelines.open_data.publish import add_command as _publish_command

    _publish_command(sub)  # publish (sets args.handler)
    args = parser.parse_args(argv)
    if getattr(args, "handler", None):
        args.handler(args)
        return 0
    {"generate": cmd_generate, "ingest": cmd_ingest, "build": cmd_build, "run": cmd_run,
     "dev": cmd_dev, "export": cmd_export, "dashboards": cmd_dashboards, "person-check": cmd_person_check, "check": cmd_check}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
