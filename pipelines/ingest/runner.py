"""Materialize the ingest assets through Dagster (what `ikms ingest` / `ikms run` call), and start the UI.

A persistent Dagster instance lives in $IKMS_DATA_DIR/dagster_home (the repo's dagster.yaml copied there), so
run history stays with the data. The ingest: one run of the `ingest` job per school-year partition, its steps
in parallel processes for a large partition (pipelines/defs/ingest/jobs.py). The dbt build and the other assets:
in-process executor (DuckDB: one writer).
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

from pipelines import settings


class IngestFailed(RuntimeError):
    """Some assets failed; .summary holds what did load, .failures what failed and why."""

    def __init__(self, failures: list[str], summary: dict):
        super().__init__("ingest failed:\n  " + "\n  ".join(failures))
        self.failures = failures
        self.summary = summary


def dagster_home() -> Path:
    home = settings.data_dir() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    src = settings.PROJECT_ROOT / "dagster.yaml"
    dst = home / "dagster.yaml"
    if src.exists() and (not dst.exists() or dst.read_bytes() != src.read_bytes()):
        shutil.copyfile(src, dst)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return home


def materialize(years: list[int] | None = None, feeds: list[str] | None = None, progress=print) -> dict:
    """Materialize every ingest asset (of `feeds`, default all) for `years` (default: every year with a folder
    in landing/). Returns {table: {rows_read, rows_loaded, rows_quarantined, files, file_issues}} over those
    years; raises IngestFailed naming each failed asset and its reason after all partitions ran."""
    import dagster as dg

    from pipelines.common.contracts import all_entities
    from pipelines.defs.ingest import jobs
    from pipelines.defs.ingest.assets import asset_key
    from pipelines.defs.ingest.gates import CHECK as GATE
    from pipelines.defs.ingest.partitions import SCHOOL_YEAR
    from pipelines.ingest.files import landing_years

    landing = settings.landing_dir()
    years = sorted(years) if years else landing_years(landing, feeds)
    entities = [e for e in all_entities() if not feeds or e.feed in feeds]
    unknown = set(feeds or []) - {e.feed for e in all_entities()}
    if unknown:
        raise ValueError(f"unknown feed(s): {sorted(unknown)}")
    settings.pseudonym_key()  # fail early and clearly when no key is set
    instance = dg.DagsterInstance.from_config(str(dagster_home()))
    keys = [str(y) for y in years]
    known = set(instance.get_dynamic_partitions(SCHOOL_YEAR))
    new = [k for k in keys if k not in known]
    if new:
        instance.add_dynamic_partitions(SCHOOL_YEAR, new)
    # the selected assets bring their checks: the reconcile check and the raw quality gate
    selection = [asset_key(e) for e in entities]
    job = dg.reconstructable(jobs.resolved_job)
    failures: list[str] = []
    for key in keys:
        n = jobs.processes(landing_bytes(landing, {e.feed for e in entities}, int(key)))
        where = f" (step output: {_fresh_forkserver(jobs.PRELOAD)})" if n > 1 else ""
        progress(f"  school year {key}: {len(selection)} asset(s), {n} process(es){where}")
        result = dg.execute_job(
            job, instance=instance, asset_selection=selection, raise_on_error=False,
            tags={"ikms/trigger": "runner", "dagster/partition": key},
            run_config={
                "execution": jobs.execution_config(n),
                # the paths as this process resolves them: a step process comes from a forkserver whose
                # environment is the one of its start
                "resources": {"warehouse": {"config": {"path": str(settings.warehouse_path()),
                                                       "landing": str(landing)}}},
                # the run's full event log stays in the instance (and the UI); the console gets warnings
                # only, the progress lines below say what happened
                "loggers": {"console": {"config": {"log_level": "WARNING"}}},
            },
        )
        for ev in result.all_events:
            if ev.event_type_value == "STEP_FAILURE":
                err = ev.event_specific_data.error
                if err is not None and err.cls_name == "DagsterAssetCheckFailedError":
                    continue  # a failed quality gate: reported below; `ikms build` refuses while it stands
                message = (err.message or "").strip().splitlines()[0] if err else "failed"
                failures.append(f"{ev.step_key} [{key}]: {message}")
                progress(f"    FAILED {ev.step_key}: {message}")
            elif ev.event_type_value == "ASSET_CHECK_EVALUATION" and ev.event_specific_data.check_name == GATE:
                data = ev.event_specific_data
                if not data.passed:
                    what = "warning" if data.severity == dg.AssetCheckSeverity.WARN else "GATE FAILED"
                    progress(f"    {what} quality gate {data.asset_key.to_user_string()} [{key}]: "
                             f"{(data.description or '')[:400]}")
        for ev in result.get_asset_materialization_events():
            mat = ev.event_specific_data.materialization
            md = {k: v.value for k, v in mat.metadata.items()}
            progress(f"    {mat.asset_key.to_user_string():32s} read {md.get('rows_read', 0):>9,}  loaded "
                     f"{md.get('rows_loaded', 0):>9,}  quarantined {md.get('rows_quarantined', 0):>7,}  "
                     f"file issues {md.get('file_issues', 0)}")
    summary = summarize([e.table for e in entities], years)
    if failures:
        raise IngestFailed(failures, summary)
    return summary


def landing_bytes(landing: Path, feeds: set[str], year: int) -> int:
    """Bytes of the landing files of `feeds` for one school year."""
    from pipelines.ingest.files import partition_dir

    return sum(f.stat().st_size for feed in feeds for f in partition_dir(landing, feed, year).glob("*") if f.is_file())


_FORKSERVER_ENV: dict | None = None


def _fresh_forkserver(preload: list[str]) -> Path:
    """Start multiprocessing's forkserver, from which the ingest job's step processes fork, with its output
    (and so theirs: Dagster's per-step console lines, tracebacks) going to $IKMS_DATA_DIR/logs/ingest_steps.log;
    the run's events, failures included, are in the instance and reported by materialize(). The forkserver
    keeps the environment of its start (IKMS_DATA_DIR, IKMS_PSEUDONYM_KEY, DAGSTER_HOME): it is restarted when
    that changed since (tests, notebooks)."""
    global _FORKSERVER_ENV
    import multiprocessing
    import multiprocessing.forkserver as fs

    log = settings.data_dir() / "logs" / "ingest_steps.log"
    env = {k: v for k, v in os.environ.items() if k.startswith(("IKMS_", "DAGSTER_"))}
    if _FORKSERVER_ENV is not None and env != _FORKSERVER_ENV:
        fs._forkserver._stop()  # the stdlib's own stop (used by its tests); started again below
    _FORKSERVER_ENV = env
    log.parent.mkdir(parents=True, exist_ok=True)
    multiprocessing.get_context("forkserver").set_forkserver_preload(
        ["dagster._core.executor.multiprocess", *preload])  # what Dagster's executor would set
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(log, "a", encoding="utf-8") as f:
            os.dup2(f.fileno(), 1)
            os.dup2(f.fileno(), 2)
            fs.ensure_running()  # the server inherits these two descriptors; a running server is left alone
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
    return log


def summarize(tables: list[str], years: list[int]) -> dict:
    from pipelines.ingest.load import connect

    out = {t: {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "files": 0, "file_issues": 0} for t in tables}
    path = settings.warehouse_path()
    if not path.exists() or not years:
        return out
    marks = ",".join("?" * len(years))
    with connect(path, read_only=True) as con:
        have = {r[0] for r in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}
        if "meta.ingest_files" in have:
            for t, read, loaded, quarantined, files in con.execute(
                f"SELECT target_table, sum(rows_read), sum(rows_loaded), sum(rows_quarantined), count(*) "
                f"FROM meta.ingest_files WHERE _school_year IN ({marks}) GROUP BY 1", years).fetchall():
                if t in out:
                    out[t].update(rows_read=int(read), rows_loaded=int(loaded), rows_quarantined=int(quarantined),
                                  files=int(files))
        if "quarantine.file_issues" in have:
            for t, n in con.execute(f"SELECT target_table, count(*) FROM quarantine.file_issues "
                                    f"WHERE _school_year IN ({marks}) GROUP BY 1", years).fetchall():
                if t in out:
                    out[t]["file_issues"] = int(n)
    return out


def dev(port: int = 3000) -> None:
    """Replace this process by `dagster dev` over the same data directory (Ctrl-C stops it)."""
    home = dagster_home()
    exe = Path(sys.executable).parent / "dagster"
    args = [str(exe), "dev", "-m", "pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)]
    env = {**os.environ, "DAGSTER_HOME": str(home), "IKMS_DATA_DIR": str(settings.data_dir())}
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.chdir(settings.PROJECT_ROOT)
    os.execve(str(exe), args, env)


class BuildFailed(RuntimeError):
    """The dbt build failed (a model errored or a dbt test failed); .summary holds what was built."""

    def __init__(self, failures: list[str], summary: dict):
        super().__init__("dbt build failed:\n  " + "\n  ".join(failures))
        self.failures = failures
        self.summary = summary


def _contiguous(keys: list[str], wanted: set[str]) -> list[tuple[str, str]]:
    """(first, last) ranges of the wanted keys, contiguous in the partition order."""
    out: list[tuple[str, str]] = []
    start = prev = None
    for k in keys + [None]:
        if k is not None and k in wanted:
            start, prev = (start or k), k
        elif start is not None:
            out.append((start, prev))
            start = None
    return out


class GatesFailed(BuildFailed):
    """`build` refused: the latest quality-gate results of the raw data hold failed error expectations."""

    def __init__(self, failures: list[str]):
        RuntimeError.__init__(self, "raw data failed error-severity quality gates:\n  " + "\n  ".join(failures))
        self.failures = failures
        self.summary = {}


def build(years: list[int] | None = None, progress=print, log_file: Path | None = None,
          ignore_gates: bool = False, full_refresh: bool = False) -> dict:
    """Materialize every dbt asset (seeds, staging ... indicators) through Dagster. The school-year models are
    built for `years` (default: every school-year partition, i.e. every ingested year) in ONE run per contiguous
    range of partitions — one dbt invocation per step; the other models are rebuilt whole. full_refresh: every
    model from scratch, all school years (dbt --full-refresh: needed once when a yearly model's columns changed,
    as those refuse a schema change). dbt's own log goes to `log_file` (default $IKMS_DATA_DIR/logs/
    dbt_build.log); progress gets one line per built model.
    Returns summary(); raises BuildFailed after the run if a step failed or a dbt test failed."""
    import contextlib
    import time

    import dagster as dg

    from pipelines.defs.dbt import project as dbt_project
    from pipelines.defs.ingest.partitions import SCHOOL_YEAR

    t0 = time.perf_counter()
    dbt_project.ensure_manifest(progress=progress)  # raises on a broken project, unlike the import-time path
    from pipelines.defs.dbt import assets as dbt_assets
    from pipelines.defs.ingest.assets import ingest_assets
    from pipelines.defs.ingest.resources import DuckDBWarehouse
    from pipelines.ingest.files import landing_years

    instance = dg.DagsterInstance.from_config(str(dagster_home()))
    known = instance.get_dynamic_partitions(SCHOOL_YEAR)
    if full_refresh and years is not None:
        raise ValueError("a full refresh rebuilds every school year: do not pass years")
    if years is None:
        years = sorted(int(k) for k in known) or landing_years(settings.landing_dir(), None)
    missing = [str(y) for y in sorted(years) if str(y) not in known]
    if missing:
        instance.add_dynamic_partitions(SCHOOL_YEAR, missing)
        known = instance.get_dynamic_partitions(SCHOOL_YEAR)
    if not ignore_gates:  # blocking holds inside one run only: the ingest was another run, so ask its results
        from pipelines.quality.gates import latest_blocking_failures

        blocked = latest_blocking_failures("raw/", years)
        if blocked:
            raise GatesFailed(blocked)
    from pipelines.defs.quality import quality_checks

    ranges = _contiguous(list(known), {str(y) for y in years})
    selection = [k for a in dbt_assets.dbt_assets_defs for k in a.keys]
    log_file = log_file or settings.data_dir() / "logs" / "dbt_build.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    console = sys.stdout

    def say(message: str) -> None:
        with contextlib.redirect_stdout(console):
            progress(message)

    counts: dict = {"models": {}, "tests_passed": {}, "tests_failed": {}}
    failures: list[str] = []
    dbt_assets.progress_hook = say
    try:
        # dagster-dbt echoes dbt's whole log on stdout: keep it in the log file, print our lines instead
        with open(log_file, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
            for first, last in ranges or [(None, None)]:
                label = f"school years {first}-{last}" if first else "no school year"
                say(f"  dbt build, {label}: {len(selection)} asset(s) in one Dagster run (log: {log_file})")
                tags = {"ikms/trigger": "runner"}
                if full_refresh:
                    tags[dbt_assets.FULL_REFRESH_TAG] = "true"
                if first:
                    tags.update({"dagster/asset_partition_range_start": first,
                                 "dagster/asset_partition_range_end": last})
                result = dg.materialize(
                    [*ingest_assets, *dbt_assets.dbt_assets_defs, *quality_checks], selection=selection, instance=instance,
                    resources={"warehouse": DuckDBWarehouse(), "dbt": dbt_assets.dbt_resource()},
                    raise_on_error=False, tags=tags,
                    # silent console: dagster-dbt warns once per dbt test on a raw.* source (they run, as
                    # observations) and a failure's stack trace is in the run log; the lines below say it all
                    run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                )
                _count_events(result, counts, failures, say)
    finally:
        dbt_assets.progress_hook = None
    out = summary(counts)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    if failures:
        raise BuildFailed(failures, out)
    return out


def notify(as_of=None, dry_run: bool = False, progress=print) -> dict:
    """Materialize notify/reminders through Dagster (the reminder rules over the quality tables, for `as_of`,
    default today). Without IKMS_SMTP_HOST the e-mails are a dry run and only the e-address outbox is written.
    Returns the asset's metadata (results per delivery outcome, per rule, skipped rules)."""
    import dagster as dg

    from pipelines.defs.ingest.resources import DuckDBWarehouse
    from pipelines.defs.notify.assets import KEY, reminders

    instance = dg.DagsterInstance.from_config(str(dagster_home()))
    config = {"dry_run": dry_run, **({"as_of": as_of.isoformat()} if as_of else {})}
    result = dg.materialize([reminders], instance=instance, resources={"warehouse": DuckDBWarehouse()},
                            raise_on_error=False, tags={"ikms/trigger": "runner"},
                            run_config={"ops": {KEY.to_python_identifier(): {"config": config}},
                                        "loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    for ev in result.all_events:
        if ev.event_type_value == "STEP_FAILURE":
            err = ev.event_specific_data.error
            raise RuntimeError(f"notify/reminders failed: {(err.message or '').strip() if err else ''}")
    mats = result.asset_materializations_for_node(KEY.to_python_identifier())
    return {k: v.value for k, v in mats[-1].metadata.items()} if mats else {}


def export_open_data(datasets: list[str] | None = None, progress=print) -> dict:
    """Materialize open_data/exports through Dagster (the open datasets as CSV, Parquet, datapackage.json and
    DCAT-AP in $IKMS_DATA_DIR/open_data). Returns the asset's metadata; raises RuntimeError with the reason when
    the export failed (e.g. an open_data.od_* table missing)."""
    from pipelines.defs.open_data.assets import KEY, exports

    return _materialize_one(exports, KEY, {"datasets": datasets} if datasets else {}, "open_data/exports")


def build_dashboards(edition: str = "public", out_dir: str | None = None, boundaries: str | None = None,
                     progress=print) -> dict:
    """Materialize dashboards/site through Dagster (the static Plotly site in $IKMS_DATA_DIR/dashboards, or
    out_dir). Returns the asset's metadata; raises RuntimeError with the reason when the build failed."""
    from pipelines.defs.dashboards.assets import KEY, site

    config = {"edition": edition, **({"out_dir": out_dir} if out_dir else {}),
              **({"boundaries": boundaries} if boundaries else {})}
    return _materialize_one(site, KEY, config, "dashboards/site")


def _materialize_one(asset, key, config: dict, label: str) -> dict:
    """Materialize one unpartitioned asset with its op config; its metadata, or RuntimeError with the cause."""
    import dagster as dg

    from pipelines.defs.ingest.resources import DuckDBWarehouse

    instance = dg.DagsterInstance.from_config(str(dagster_home()))
    result = dg.materialize([asset], instance=instance, resources={"warehouse": DuckDBWarehouse()},
                            raise_on_error=False, tags={"ikms/trigger": "runner"},
                            run_config={"ops": {key.to_python_identifier(): {"config": config}},
                                        "loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    for ev in result.all_events:
        if ev.event_type_value == "STEP_FAILURE":
            err = ev.event_specific_data.error
            cause = err.cause if err is not None and err.cause is not None else err
            raise RuntimeError(f"{label} failed: {(cause.message or '').strip() if cause else ''}")
    mats = result.asset_materializations_for_node(key.to_python_identifier())
    return {k: v.value for k, v in mats[-1].metadata.items()} if mats else {}


def _count_events(result, counts: dict, failures: list[str], say) -> None:
    import dagster as dg

    for ev in result.all_events:
        if ev.event_type_value == "STEP_FAILURE":
            err = ev.event_specific_data.error
            if err is not None and err.cls_name == "DagsterAssetCheckFailedError":
                continue  # blocking dbt tests failed: each is listed below as a failed check
            message = (err.message or "").strip().splitlines()[0] if err else "failed"
            failures.append(f"{ev.step_key}: {message}")
            say(f"    FAILED step {ev.step_key}: {message[:500]}")
        elif ev.event_type_value == "ASSET_MATERIALIZATION":
            key = ev.event_specific_data.materialization.asset_key  # a yearly model: once per partition
            counts["models"].setdefault(key.path[0], set()).add(key.to_user_string())
        elif ev.event_type_value == "ASSET_CHECK_EVALUATION" and ev.event_specific_data.check_name == "ge_gates":
            data = ev.event_specific_data  # a quality gate (pipelines/defs/quality), not a dbt test
            counts.setdefault("gates", {"passed": 0, "warned": 0, "failed": 0})
            bucket = "passed" if data.passed else ("warned" if data.severity == dg.AssetCheckSeverity.WARN else "failed")
            counts["gates"][bucket] += 1
            if not data.passed:
                say(f"    {'warning' if bucket == 'warned' else 'GATE FAILED'} quality gate on "
                    f"{data.asset_key.to_user_string()}: {(data.description or '')[:400]}")
            if bucket == "failed":
                failures.append(f"quality gate on {data.asset_key.to_user_string()}: {(data.description or '')[:400]}")
        elif ev.event_type_value == "ASSET_CHECK_EVALUATION":
            data = ev.event_specific_data
            layer = data.asset_key.path[0]
            warn = not data.passed and data.severity == dg.AssetCheckSeverity.WARN  # a dbt test of severity warn
            bucket = "tests_passed" if data.passed else ("tests_warned" if warn else "tests_failed")
            counts.setdefault(bucket, {})
            counts[bucket][layer] = counts[bucket].get(layer, 0) + 1
            if not data.passed and not warn:
                failures.append(f"dbt test {data.check_name} on {data.asset_key.to_user_string()}")


def summary(counts: dict) -> dict:
    """Per layer: models built, tests passed / failed; plus indicator_values rows per school year."""
    from pipelines.ingest.load import connect

    layers = sorted(set(counts["models"]) | set(counts["tests_passed"]) | set(counts["tests_failed"]))
    out: dict = {"layers": {l: {"built": len(counts["models"].get(l, ())), "tests_passed": counts["tests_passed"].get(l, 0),
                                "tests_failed": counts["tests_failed"].get(l, 0),
                                "tests_warned": counts.get("tests_warned", {}).get(l, 0)} for l in layers},
                 "indicator_rows": {}, "indicators": 0, "gates": counts.get("gates", {})}
    path = settings.warehouse_path()
    if path.exists():
        with connect(path, read_only=True) as con:
            have = {r[0] for r in con.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}
            if "indicators.indicator_values" in have:
                out["indicator_rows"] = {int(y): int(n) for y, n in con.execute(
                    "SELECT school_year, count(*) FROM indicators.indicator_values GROUP BY 1 ORDER BY 1").fetchall()}
                out["indicators"] = int(con.execute(
                    "SELECT count(DISTINCT indicator_id) FROM indicators.indicator_values").fetchone()[0])
    return out
