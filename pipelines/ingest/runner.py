"""Materialize the ingest assets through Dagster (what `ikms ingest` / `ikms run` call), and start the UI.

A persistent Dagster instance lives in $IKMS_DATA_DIR/dagster_home (the repo's dagster.yaml copied there), so
run history stays with the data. One run per school-year partition, in-process executor (DuckDB: one writer).
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
    from pipelines.defs.ingest.assets import asset_key, ingest_assets
    from pipelines.defs.ingest.partitions import SCHOOL_YEAR
    from pipelines.defs.ingest.resources import DuckDBWarehouse
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
    selection = [asset_key(e) for e in entities]
    failures: list[str] = []
    for key in keys:
        progress(f"  school year {key}: {len(selection)} asset(s)")
        result = dg.materialize(
            ingest_assets, selection=selection, partition_key=key, instance=instance,
            resources={"warehouse": DuckDBWarehouse()}, raise_on_error=False,
            tags={"ikms/trigger": "runner"},
            # the run's full event log stays in the instance (and the UI); the console gets warnings only,
            # the progress lines below say what happened
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        for ev in result.all_events:
            if ev.event_type_value == "STEP_FAILURE":
                err = ev.event_specific_data.error
                message = (err.message or "").strip().splitlines()[0] if err else "failed"
                failures.append(f"{ev.step_key} [{key}]: {message}")
                progress(f"    FAILED {ev.step_key}: {message}")
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
