"""Benchmark: generate the demo country (default scale 1.0 x 10 school years) and ingest it, printing per-feed
rows, seconds and peak memory. Not a test: figures for the people who plan the work.

    make bench                          # scale 1.0, 2015-2024, ingest of 2023/24 timed per feed
    BENCH_SCALE=0.1 make bench          # smaller
    python -m pipelines.bench --scale 1.0 --ingest-years 2015-2024

Each step runs in its own process so that its peak resident memory (ru_maxrss from wait4) is its own.
Data go to $IKMS_DATA_DIR/bench (the demo data of `make run` are left alone).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pipelines import settings
from pipelines.cli import parse_years
from pipelines.common import contracts


def run_child(args: list[str], env: dict) -> tuple[float, float, int]:
    """Run `python -m pipelines.bench <args>` -> (seconds, peak RSS in MiB, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.bench", *args], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, code


def child(argv: list[str]) -> int:
    """The steps, run inside a child process."""
    step = argv[0]
    if step == "generate":
        from pipelines.generator.main import generate

        scale, years, seed = float(argv[1]), parse_years(argv[2]), int(argv[3])
        generate(seed=seed, scale=scale, years=years, landing=settings.landing_dir(), progress=lambda m: print("   ", m, flush=True))
    elif step == "ingest":  # one feed, without Dagster: the ingest's own cost
        from pipelines.ingest.ingest import ingest_entity
        from pipelines.ingest.runner import dagster_home  # noqa: F401 (same imports as the asset path)

        feed, years = argv[1], parse_years(argv[2])
        for year in years:
            for entity in contracts.feeds()[feed].entities:
                ingest_entity(entity, year)
    elif step == "dagster":  # every feed of the years through Dagster, as `ikms ingest` does
        from pipelines.ingest.runner import materialize

        materialize(years=parse_years(argv[1]), progress=lambda m: None)
    return 0


def feed_rows(feed: str, years: list[int]) -> tuple[int, int, int]:
    import duckdb

    con = duckdb.connect(str(settings.warehouse_path()), read_only=True)
    try:
        marks = ",".join(str(y) for y in years)
        return con.execute(
            "select coalesce(sum(rows_read),0), coalesce(sum(rows_loaded),0), coalesce(sum(rows_quarantined),0) "
            f"from meta.ingest_files where starts_with(target_table, ?) and _school_year in ({marks})", [feed + "_"]
        ).fetchone()
    finally:
        con.close()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("generate", "ingest", "dagster"):
        return child(sys.argv[1:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--years", default="2015-2024")
    p.add_argument("--ingest-years", default="2023", help="school years whose ingest is timed (default 2023 = 2023/24)")
    p.add_argument("--seed", type=int, default=20241)
    p.add_argument("--skip-generate", action="store_true", help="reuse the landing files of an earlier bench run")
    args = p.parse_args()

    env = dict(os.environ)
    env["IKMS_DATA_DIR"] = str(settings.data_dir() / "bench")
    os.environ["IKMS_DATA_DIR"] = env["IKMS_DATA_DIR"]
    results: dict = {"scale": args.scale, "years": args.years, "machine": {"cpus": os.cpu_count()}}
    print(f"bench data directory: {env['IKMS_DATA_DIR']}", flush=True)

    if not args.skip_generate:
        warehouse = settings.warehouse_path()
        if warehouse.exists():
            warehouse.unlink()
        print(f"== generate scale {args.scale} x {args.years}", flush=True)
        secs, mib, code = run_child(["generate", str(args.scale), args.years, str(args.seed)], env)
        if code:
            print(f"generation failed (exit {code})")
            return code
        landing = settings.landing_dir()
        size = sum(f.stat().st_size for f in landing.rglob("*") if f.is_file())
        results["generate"] = {"seconds": round(secs, 1), "peak_mib": round(mib), "landing_mib": round(size / 2**20)}
        print(f"   generated in {secs:.1f} s, peak {mib:.0f} MiB, {size / 2**20:.0f} MiB of files", flush=True)

    years = parse_years(args.ingest_years)
    order = ["viis"] + sorted(f for f in contracts.feeds() if f != "viis")  # the registry first: others check against it
    print(f"== ingest of school year(s) {args.ingest_years}, one feed at a time (each in its own process, "
          f"seconds include ~2-4 s of Python start-up and imports)", flush=True)
    print(f"{'feed':<14}{'rows read':>14}{'loaded':>14}{'quarantined':>13}{'seconds':>10}{'peak MiB':>10}")
    results["ingest"] = {}
    total = 0.0
    for feed in order:
        secs, mib, code = run_child(["ingest", feed, args.ingest_years], env)
        read, loaded, quarantined = feed_rows(feed, years)
        total += secs
        results["ingest"][feed] = {"rows_read": read, "rows_loaded": loaded, "rows_quarantined": quarantined,
                                   "seconds": round(secs, 1), "peak_mib": round(mib), "exit": code}
        print(f"{feed:<14}{read:>14,}{loaded:>14,}{quarantined:>13,}{secs:>10.1f}{mib:>10.0f}" + ("  FAILED" if code else ""), flush=True)
    print(f"{'total':<14}{'':>41}{total:>10.1f}")
    results["ingest_total_seconds"] = round(total, 1)
    print(f"== the same school year(s) through Dagster, every feed in one run per year (`ikms ingest`)", flush=True)
    secs, mib, code = run_child(["dagster", args.ingest_years], env)
    results["dagster"] = {"seconds": round(secs, 1), "peak_mib": round(mib), "exit": code}
    print(f"   {secs:.1f} s, peak {mib:.0f} MiB" + ("  FAILED" if code else ""), flush=True)
    out = Path(env["IKMS_DATA_DIR"]) / "bench.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"figures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
