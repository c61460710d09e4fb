"""Dashboard bench: build the site from a synthetic warehouse at national scale (dashboards/synthetic.py) or from
a given warehouse, and print the build seconds and page weights against the budget.

    python -m dashboards.bench [--institutions 1400] [--years 2015-2024] [--warehouse FILE] [--out DIR]
    python -m pipelines.bench --dashboards-synthetic [N]     # the same through the project bench
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

# Page-weight budget (bytes, the HTML with its embedded JSON; the shared assets/*.js and data/*.js files are
# loaded once and cached, plotly.min.js is not counted).
BUDGET = {"institution": 150_000, "municipality": 400_000, "overview": 150_000, "explorer": 50_000,
          "map": 150_000, "quality": 1_000_000, "explorer_data": 3_000_000, "data": 3_000_000}


def print_summary(summary: dict, say=print) -> bool:
    """One line per page type: files, total and largest size, the budget; returns True when within budget."""
    ok = True
    say(f"  {'page type':<16}{'files':>7}{'total KiB':>12}{'max KiB':>10}{'budget KiB':>12}")
    for kind, s in sorted(summary["page_types"].items()):
        budget = BUDGET.get(kind)
        over = budget is not None and s["max_bytes"] > budget
        ok &= not over
        say(f"  {kind:<16}{s['files']:>7}{s['bytes'] / 1024:>12.0f}{s['max_bytes'] / 1024:>10.1f}"
            f"{(budget / 1024 if budget else 0):>12.0f}{'  OVER' if over else ''}")
    say(f"  built {summary['pages']} pages ({summary['institutions']} institutions), "
        f"{summary['bytes'] / 2**20:.1f} MiB in {summary['seconds']:.1f} s")
    return ok


def main(argv: list[str] | None = None) -> int:
    from dashboards.build import build_site
    from dashboards.synthetic import synthetic_warehouse
    from pipelines import settings
    from pipelines.cli import parse_years

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--institutions", type=int, default=1400)
    p.add_argument("--years", default="2015-2024")
    p.add_argument("--warehouse", default=None, help="build from this warehouse instead of a synthetic one")
    p.add_argument("--out", default=None, help="site directory (default $IKMS_DATA_DIR/bench/dashboards)")
    p.add_argument("--internal", action="store_true")
    args = p.parse_args(argv)
    bench_dir = settings.data_dir() / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    if args.warehouse:
        warehouse = Path(args.warehouse)
    else:
        warehouse = bench_dir / "dashboards_synthetic.duckdb"
        t0 = time.perf_counter()
        rows = synthetic_warehouse(warehouse, parse_years(args.years), institutions=args.institutions)
        results["synthetic"] = {"seconds": round(time.perf_counter() - t0, 1), "rows": rows}
        print(f"== synthetic warehouse: {rows} in {results['synthetic']['seconds']} s ({warehouse})", flush=True)
    out = Path(args.out) if args.out else bench_dir / "dashboards"
    print(f"== dashboard site from {warehouse} -> {out}", flush=True)
    summary = build_site(warehouse, out, edition="internal" if args.internal else "public")
    ok = print_summary(summary)
    results["dashboards"] = {k: summary[k] for k in ("pages", "bytes", "seconds", "institutions", "page_types")}
    results["budget"] = BUDGET
    results["within_budget"] = ok
    (bench_dir / "bench_dashboards.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    print(f"figures written to {bench_dir / 'bench_dashboards.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
