"""Benchmark: generate the demo country (default scale 1.0 x 10 school years), ingest it, and build the dbt
warehouse, printing per-feed rows, seconds and peak memory, and per-model dbt seconds. Not a test: figures for
the people who plan the work.

    make bench                          # scale 1.0, 2015-2024: ingest of 2023/24 per feed, then the dbt part
    BENCH_SCALE=0.1 make bench          # smaller
    python -m pipelines.bench --scale 1.0 --ingest-years 2015-2024
    python -m pipelines.bench --skip-generate --dbt-only        # only the dbt part, on the data already there
    python -m pipelines.bench --exports-only                    # only the open-data export of the bench warehouse
    python -m pipelines.bench --exports-synthetic               # the export of synthetic od_* tables (no build)
    python -m pipelines.bench --dashboards-synthetic            # the dashboard site of a synthetic warehouse

Flags:
  --scale S / --years A-B / --seed N   the demo country generated (default 1.0, 2015-2024, 20241)
  --skip-generate                      reuse the landing files of an earlier bench run
  --ingest-years A-B                   school years whose ingest is timed feed by feed (default 2023)
  --no-dbt                             skip the dbt part
  --dbt-only                           skip generation and the ingest timings; only the dbt part
  --dbt-year Y                         the school year of the one-year rebuild (default: the last of --years)
  --top N                              how many of the slowest models to list (default 25)
  --exports                            after the dbt part, time the open-data export (export_all, every dataset)
  --exports-only                       only time the export of the bench warehouse's open_data.od_* tables
  --exports-synthetic [ROWS]           time the export of synthetic open_data.od_* tables with the catalogue's
                                       columns, ROWS rows per dataset and school year (default 30000: ~3x the
                                       largest dataset at scale 1.0) for every year of --years, in
                                       bench/exports_synthetic.duckdb: the export's cost without building a country
  --dashboards-only                    only time the dashboard site built from the bench warehouse
  --dashboards-synthetic [N]           time the dashboard site of a synthetic warehouse (dashboards/synthetic.py):
                                       N institutions (default 1400, the national scale) x 43 municipalities x
                                       --years x every catalogue indicator with its dimensions; prints build seconds
                                       and page weights against the budget of dashboards/bench.py

The dbt part first ingests every school year of --years through Dagster (untimed, skipped for years already in
meta.ingest_files), then runs `dbt build --full-refresh` (every seed, model and test, all years) and
`dbt build` with IKMS_SCHOOL_YEARS=[Y] (the one-year rebuild: the yearly incremental models delete+insert
year Y only, the views and small tables are rebuilt whole), each in its own process, and prints per-model
seconds from that run's target/run_results.json, totals per layer (models and tests apart) and the wall time.

Each step runs in its own process so that its peak memory is its own: the larger of its maximum RSS (wait4)
and the summed PSS of its process tree (the ingest's parallel step processes), sampled every 0.2 s.
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


def process_tree(root: int) -> list[int]:
    """A process and all its descendants (the ingest's forkserver and step processes)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(name))
            except OSError:
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def tree_rss_kib(pids: list[int]) -> int:
    """Resident set size (KiB) summed over the processes: shared pages counted in each, so never below their
    summed PSS; cheap (no page-table walk)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, IndexError):
            pass
    return total


def tree_pss_kib(pids: list[int]) -> int:
    """Proportional set size (KiB) summed over the processes: the memory a step with worker processes really
    holds (their shared pages counted once). The kernel walks every page of each process for it: ~30 ms of CPU
    for the ingest's processes at scale 1.0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return total


def run_child(args: list[str], env: dict) -> tuple[float, float, int]:
    """Run `python -m pipelines.bench <args>` -> (seconds, peak memory in MiB, exit code). The peak is the
    larger of the child's own maximum RSS (wait4) and the summed PSS of its process tree sampled every 0.2 s
    (the ingest's step processes run side by side). The PSS is read only when the tree's summed RSS exceeds
    the peak so far (it cannot be a new peak otherwise): read every 0.2 s it cost the measured ingest ~7 s of
    CPU, ~3 s of its wall time on two cores."""
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.bench", *args], env=env)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            pids = process_tree(proc.pid)
            if tree_rss_kib(pids) > peak[0]:
                peak[0] = max(peak[0], tree_pss_kib(pids))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    return seconds, max(usage.ru_maxrss, peak[0]) / 1024, code


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
    elif step == "export":  # the open-data export, as the asset open_data/exports runs it
        from pipelines.open_data.export import export_all

        warehouse = Path(argv[1]) if len(argv) > 1 else None
        manifest = export_all(warehouse=warehouse, out_dir=settings.data_dir() / "open_data",
                              progress=lambda m: print("   ", m, flush=True))
        files = [f for d in manifest["datasets"] for f in d["files"]]
        print(json.dumps({"datasets": len(manifest["datasets"]), "files": len(files),
                          "rows": sum(f["rows"] or 0 for f in files if f["format"] == "CSV"),
                          "mib": round(sum(f["bytes"] for f in files) / 2**20, 1)}), flush=True)
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


def dbt_build(label: str, extra: list[str], env: dict, top: int) -> dict:
    """`dbt build <extra>` in its own process with its own target path; per-model seconds from run_results."""
    from pipelines.defs.dbt import project

    dbt_dir = project.project_dir()
    target = Path(env["IKMS_DATA_DIR"]) / "dbt_bench" / label
    target.mkdir(parents=True, exist_ok=True)
    manifest = project.ensure_manifest()  # the generated indicator models must exist
    # as a Dagster dbt step starts (pipelines/defs/dbt/assets.py): from the data directory's last parse
    project.seed_partial_parse(target, manifest.parent)
    args = [project.dbt_executable(), "build", "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir),
            "--target-path", str(target), "--log-path", str(target), "--quiet", *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=dbt_dir, env={**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    project.keep_partial_parse(target)
    results = json.loads((target / "run_results.json").read_text())["results"] if (target / "run_results.json").exists() else []
    rows = []
    for r in results:
        uid = r["unique_id"]
        kind, name = uid.split(".")[0], uid.split(".")[-1] if uid.startswith("seed.") else uid.split(".")[2]
        rows.append((kind, name, float(r.get("execution_time") or 0.0), r["status"]))
    layers: dict = {}
    for kind, name, secs, _ in rows:
        layer = "tests" if kind in ("test", "unit_test") else (
            "seeds" if kind == "seed" else next((l for l in ("stg_", "int_", "dim_", "fct_", "ind_") if name.startswith(l)), "other"))
        layers.setdefault(layer, [0, 0.0])
        layers[layer][0] += 1
        layers[layer][1] += secs
    print(f"   {label}: {wall:.1f} s wall, peak {usage.ru_maxrss / 1024:.0f} MiB, {len(rows)} nodes"
          + (f"  FAILED (exit {code})" if code else ""), flush=True)
    print(f"   {'layer':<10}{'nodes':>7}{'seconds':>10}")
    for layer, (n, secs) in sorted(layers.items(), key=lambda kv: -kv[1][1]):
        print(f"   {layer:<10}{n:>7}{secs:>10.1f}")
    print(f"   slowest {top}:")
    for kind, name, secs, status in sorted(rows, key=lambda r: -r[2])[:top]:
        print(f"     {secs:8.1f} s  {kind:<9} {name}" + ("" if status in ("success", "pass") else f"  [{status}]"))
    bad = [(k, n, st) for k, n, _, st in rows if st not in ("success", "pass", "skipped", "warn")]
    bad += [(k, n, st) for k, n, _, st in rows if st == "warn"]
    for k, n, st in bad[:20]:
        print(f"     {st.upper()}: {k} {n}")
    return {"wall_seconds": round(wall, 1), "peak_mib": round(usage.ru_maxrss / 1024), "exit": code,
            "nodes": len(rows), "layers": {l: {"nodes": n, "seconds": round(s, 1)} for l, (n, s) in layers.items()},
            "models": {n: round(s, 2) for k, n, s, _ in rows if k == "model"},
            "failed": sum(st != "warn" for _, _, st in bad)}


def synthetic_open_data(path: Path, years: list[int], rows_per_year: int) -> int:
    """open_data.od_* tables with the catalogue's published columns (+ _pazime flags) and synthetic values:
    ~10 % of the values flagged 'c', some NULL-flagged 'z'. Returns the rows written. Values are a hash of the
    row number (no RNG): the same call gives the same tables."""
    import duckdb

    from pipelines.open_data import catalogue

    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA open_data")
    total = 0
    for ds in catalogue.load().datasets:
        select = []
        keys = [c.name for c in ds.key_columns() if c.role in ("institution", "dimension")]
        for c in ds.published_columns():
            h = f"hash(i, '{c.name}')"
            if c.role == "period":
                expr = "y || '/' || (y + 1)"
            elif c.role == "level":
                expr = "CASE WHEN i % 40 = 0 THEN 'valsts' WHEN i % 10 = 0 THEN 'pašvaldība' ELSE 'iestāde' END"
            elif c.type == "integer":
                expr = f"CAST({h} % 500 AS BIGINT)"
            elif c.type == "number":
                expr = f"({h} % 100000) / 997.0"
            elif c.type == "date":
                expr = f"DATE '2000-01-01' + CAST({h} % 9000 AS INTEGER)"
            elif c.role in ("institution", "dimension") and c.name == keys[-1]:
                expr = "lpad(CAST(i AS VARCHAR), 10, '0')"  # the last key column makes the rows unique
            elif c.role == "dimension":
                expr = f"CASE WHEN i % 7 = 0 THEN 'Kopā' ELSE CAST({h} % 20 AS VARCHAR) END"
            else:
                expr = f"'Nosaukums, ' || lpad(CAST({h} % 100000000 AS VARCHAR), 10, '0')"
            if c.role in catalogue.VALUE_ROLES:
                select.append(f"CASE WHEN {h} % 10 = 0 THEN NULL ELSE {expr} END AS {c.name}")
                select.append(f"CASE WHEN {h} % 10 = 0 THEN (CASE WHEN {h} % 7 = 0 THEN 'z' ELSE 'c' END) END "
                              f"AS {c.name}_pazime")
            else:
                select.append(f"{expr} AS {c.name}")
        flags = [f"{c.name}_pazime" for c in ds.published_columns() if c.role in catalogue.VALUE_ROLES]
        cols = [c.name for c in ds.published_columns()] + flags
        con.execute(f"CREATE TABLE open_data.{ds.model} AS SELECT {', '.join(cols)} FROM ("
                    f"SELECT {', '.join(select)} FROM range({rows_per_year}) r(i), "
                    f"(SELECT unnest({list(years)}) AS y))")
        total += rows_per_year * len(years)
    con.close()
    return total


def bench_exports(env: dict, results: dict, warehouse: Path | None = None) -> int:
    label = f" of {warehouse}" if warehouse else ""
    print(f"== open-data export{label} (export_all: every dataset, CSV + Parquet per school year, metadata)", flush=True)
    secs, mib, code = run_child(["export", *([str(warehouse)] if warehouse else [])], env)
    if code:
        print(f"export failed (exit {code})")
        return code
    results["exports"] = {"seconds": round(secs, 1), "peak_mib": round(mib)}
    print(f"   exported in {secs:.1f} s (with Python start-up), peak {mib:.0f} MiB", flush=True)
    return 0


def ingested_years() -> set[int]:
    import duckdb

    path = settings.warehouse_path()
    if not path.exists():
        return set()
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("select distinct _school_year from meta.ingest_files").fetchall()}
    except duckdb.Error:
        return set()
    finally:
        con.close()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("generate", "ingest", "dagster", "export"):
        return child(sys.argv[1:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--years", default="2015-2024")
    p.add_argument("--ingest-years", default="2023", help="school years whose ingest is timed (default 2023 = 2023/24)")
    p.add_argument("--seed", type=int, default=20241)
    p.add_argument("--skip-generate", action="store_true", help="reuse the landing files of an earlier bench run")
    p.add_argument("--no-dbt", action="store_true", help="skip the dbt part")
    p.add_argument("--dbt-only", action="store_true", help="skip generation and the ingest timings")
    p.add_argument("--dbt-year", type=int, default=None, help="school year of the one-year rebuild (default: the last)")
    p.add_argument("--top", type=int, default=25, help="how many of the slowest models to list")
    p.add_argument("--exports", action="store_true", help="after the dbt part, time the open-data export")
    p.add_argument("--exports-only", action="store_true", help="only time the export of the bench warehouse")
    p.add_argument("--exports-synthetic", type=int, nargs="?", const=30000, default=None, metavar="ROWS",
                   help="time the export of synthetic od_* tables, ROWS per dataset and year (default 30000)")
    p.add_argument("--dashboards-only", action="store_true", help="only time the dashboard site of the bench warehouse")
    p.add_argument("--dashboards-synthetic", type=int, nargs="?", const=1400, default=None, metavar="N",
                   help="time the dashboard site of a synthetic warehouse with N institutions (default 1400)")
    args = p.parse_args()
    if args.dashboards_only or args.dashboards_synthetic:
        from dashboards.bench import main as dashboards_bench

        extra = ["--years", args.years]
        if args.dashboards_only:
            extra += ["--warehouse", str(settings.data_dir() / "bench" / "warehouse.duckdb")]
        else:
            extra += ["--institutions", str(args.dashboards_synthetic)]
        return dashboards_bench(extra)
    if args.dbt_only:
        args.skip_generate = True

    env = dict(os.environ)
    env.pop("IKMS_SCHOOL_YEARS", None)  # every dbt build here says its years itself
    env["IKMS_DATA_DIR"] = str(settings.data_dir() / "bench")
    os.environ["IKMS_DATA_DIR"] = env["IKMS_DATA_DIR"]
    results: dict = {"scale": args.scale, "years": args.years, "machine": {"cpus": os.cpu_count()}}
    print(f"bench data directory: {env['IKMS_DATA_DIR']}", flush=True)
    if args.exports_only or args.exports_synthetic:
        warehouse = None
        if args.exports_synthetic:
            warehouse = settings.data_dir() / "exports_synthetic.duckdb"
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            rows = synthetic_open_data(warehouse, parse_years(args.years), args.exports_synthetic)
            print(f"== synthetic open_data.od_* tables: {rows:,} rows in {time.perf_counter() - t0:.1f} s", flush=True)
            results["exports_synthetic_rows"] = rows
        code = bench_exports(env, results, warehouse)
        out = Path(env["IKMS_DATA_DIR"]) / "bench_exports.json"
        out.write_text(json.dumps(results, indent=2))
        print(f"figures written to {out}")
        return code

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

    if not args.dbt_only:
        bench_ingest(args, env, results)
    if not args.no_dbt:
        all_years = parse_years(args.years)
        todo = sorted(set(all_years) - ingested_years())
        if todo:
            print(f"== ingest of the other school years through Dagster for the dbt part (untimed): {todo}", flush=True)
            _, _, code = run_child(["dagster", ",".join(map(str, todo))], env)
            if code:
                print(f"ingest failed (exit {code})")
                return code
        year = args.dbt_year or all_years[-1]
        print(f"== dbt: full build of every model, test and indicator, school years {args.years}", flush=True)
        results["dbt_full"] = dbt_build("full", ["--full-refresh"], env, args.top)
        print(f"== dbt: one-year rebuild of {year} (the yearly models delete+insert {year} only)", flush=True)
        # the year as the pipeline passes it (IKMS_SCHOOL_YEARS: no re-parse, see pipelines/defs/dbt/assets.py)
        results["dbt_one_year"] = dbt_build(f"year_{year}", [], {**env, "IKMS_SCHOOL_YEARS": json.dumps([year])},
                                            args.top)
    if args.exports:
        code = bench_exports(env, results)
        if code:
            return code
    out = Path(env["IKMS_DATA_DIR"]) / "bench.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"figures written to {out}")
    return 0


def bench_ingest(args, env: dict, results: dict) -> None:
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


if __name__ == "__main__":
    sys.exit(main())
